// A vitest reporter that says, every 30 s, which test files are still running and for how long: a long file
// (the crash test, the outage scenario) never leaves CI silent for minutes.
import { relative } from 'node:path';

const EVERY_MS = Number(process.env.CREMA_TEST_PROGRESS_MS ?? 30_000);

const seconds = (ms) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

export default class TestProgress {
  running = new Map();
  finished = 0;
  queued = 0;
  startedAt = Date.now();
  timer = undefined;

  onTestRunStart(specifications) {
    this.startedAt = Date.now();
    this.queued = specifications.length;
    this.timer = setInterval(() => this.report(), EVERY_MS);
    this.timer.unref();
  }

  onTestModuleStart(testModule) {
    this.running.set(testModule.moduleId, Date.now());
  }

  onTestModuleEnd(testModule) {
    this.running.delete(testModule.moduleId);
    this.finished++;
  }

  onTestRunEnd() {
    clearInterval(this.timer);
  }

  report() {
    const now = Date.now();
    const files = [...this.running]
      .sort((a, b) => a[1] - b[1])
      .map(([id, at]) => `${relative(process.cwd(), id)} (${seconds(now - at)})`);
    process.stdout.write(
      `\n[progress ${seconds(now - this.startedAt)}] ${this.finished}/${this.queued} files done; running: ${files.join(', ') || (this.finished === this.queued ? 'none, collecting coverage' : 'none')}\n`,
    );
  }
}
