import { Link } from '../lib/router.js';

export function NotFoundPage() {
  return (
    <section class="card">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link href="/">Back to customers</Link>
      </p>
    </section>
  );
}
