import type { LinkRequest } from '../api/types.js';
import { formatTime } from '../lib/format.js';

/** Who asked, from which channel, when: what the operator checks with the person before linking. */
export function LinkRequestSummary({ request }: { request: LinkRequest }) {
  return (
    <dl class="summary" aria-label="The request">
      <div>
        <dt>Channel</dt>
        <dd class="channel">{request.channel}</dd>
      </div>
      <div>
        <dt>Account</dt>
        <dd>
          <code class="break-anywhere">{request.external_id}</code>
        </dd>
      </div>
      <div>
        <dt>Name given</dt>
        <dd>{request.display_name ?? <span class="muted">none</span>}</dd>
      </div>
      {request.instance_id ? (
        <div>
          <dt>Instance</dt>
          <dd>
            <code class="break-anywhere">{request.instance_id}</code>
          </dd>
        </div>
      ) : null}
      <div>
        <dt>Asked</dt>
        <dd>
          <time dateTime={request.created_at}>{formatTime(request.created_at)}</time>
        </dd>
      </div>
      <div>
        <dt>{request.status === 'pending' ? 'Code expires' : 'Expired'}</dt>
        <dd>
          <time dateTime={request.expires_at}>{formatTime(request.expires_at)}</time>
        </dd>
      </div>
    </dl>
  );
}
