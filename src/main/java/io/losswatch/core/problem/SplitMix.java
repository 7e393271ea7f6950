package io.losswatch.core.problem;

/**
 * The JDK's {@code SplittableRandom(seed)} (SplitMix64) with its one word of state in the open, so a minibatch
 * order can be snapshot and continued. Draws exactly what {@code new SplittableRandom(seed).nextInt(bound)}
 * draws (a test holds it to that), so runs keep their minibatches.
 */
final class SplitMix {
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
  long seed;

  SplitMix(long seed) {
    this.seed = seed;
  }

  int nextInt() {
    long z = seed += GOLDEN_GAMMA;
    z = (z ^ (z >>> 33)) * 0x62a9d9ed799705f5L;
    return (int) (((z ^ (z >>> 28)) * 0xcb24d0a5c88c35b3L) >>> 32);
  }

  /** Uniform in [0, bound), rejecting over-represented draws as the JDK's {@code boundedNextInt} does. */
  int nextInt(int bound) {
    int r = nextInt();
    int m = bound - 1;
    if ((bound & m) == 0) return r & m;
    for (int u = r >>> 1; u + m - (r = u % bound) < 0; u = nextInt() >>> 1) {
      // rejected: draw again
    }
    return r;
  }
}
