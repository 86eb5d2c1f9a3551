/**
 * The loop behind an outbox worker (webhook deliveries, chat notices): `run` looks for due work,
 * never twice at once (a `pump` while it runs makes it run once more right after), at once on
 * `start` and `wake`, and every `pollIntervalMs` while started, so that work written by another
 * process (a replica, the command line) is found too.
 */
export function createPoller(options: {
  pollIntervalMs: number;
  run: () => Promise<void>;
  /** A failed look (the database, most often); the next poll tries again. */
  onError: (error: unknown) => void;
}) {
  let pumping: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;

  function pump(): Promise<void> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = (async () => {
      try {
        do {
          again = false;
          await options.run();
        } while (again);
      } catch (error) {
        options.onError(error);
      } finally {
        pumping = undefined;
      }
    })();
    return pumping;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      void pump().finally(schedule);
    }, options.pollIntervalMs);
    timer.unref();
  }

  return {
    /** One look now, or once more after the one running; resolves when the looking is done. */
    pump,
    get stopped() {
      return stopped;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
      void pump();
    },
    /** Work was written: look now rather than at the next poll. */
    wake() {
      if (!stopped) void pump();
    },
    /** No more polls; waits for a look in progress. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pumping;
    },
  };
}
