import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Another connection on another thread (as another process would) that takes the write lock
 * and keeps it until told, or until `holdMs` have passed: less than the 5 s the server used to
 * wait, so that a server that waits for it gets the lock (a 201) rather than a 503.
 */
export async function holdWriteLock(path: string, holdMs: number) {
  const released = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.path);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO settings (key, value) VALUES ('lock-holder', 'x')").run();
    const flag = new Int32Array(workerData.released);
    let failsafe;
    const release = () => {
      clearTimeout(failsafe);
      if (Atomics.load(flag, 0) !== 0) return;
      db.exec('ROLLBACK');
      db.close();
      Atomics.store(flag, 0, 1);
      parentPort.postMessage('released');
      parentPort.close();
    };
    parentPort.on('message', release);
    failsafe = setTimeout(release, workerData.holdMs);
    parentPort.postMessage('locked');
    `,
    {
      eval: true,
      workerData: {
        path,
        holdMs,
        released: released.buffer,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      },
    },
  );
  const [first] = (await once(worker, 'message')) as [string];
  if (first !== 'locked') throw new Error(`lock holder: ${first}`);
  return {
    held: () => Atomics.load(released, 0) === 0,
    async release() {
      if (Atomics.load(released, 0) === 0) {
        worker.postMessage('release');
        await once(worker, 'exit');
      }
    },
  };
}
