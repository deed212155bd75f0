// A process that takes a sync's lock (argv: folder, milliseconds to hold it), prints "locked" or
// "blocked: <message>", holds the lock, then releases it and exits.
import { takeLock } from '../../src/lock.js';

const [dir = '', holdMs = '0'] = process.argv.slice(2);
let release: () => void;
try {
  release = takeLock(dir, 'contended');
} catch (error) {
  console.log(`blocked: ${(error as Error).message}`);
  process.exit(0);
}
console.log('locked');
setTimeout(() => {
  release();
  process.exit(0);
}, Number(holdMs));
