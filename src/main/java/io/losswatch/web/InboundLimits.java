package io.losswatch.web;

/**
 * What one client may ask of the server: at most {@link #MAX_MESSAGES_PER_MINUTE} messages a minute, and
 * subscribes (each can bring a run's summary and history) from a bucket of {@link #SUBSCRIBE_BURST} that
 * refills at one a second. Times are {@link System#nanoTime()}.
 */
final class InboundLimits {
  static final int MAX_MESSAGES_PER_MINUTE = 100;
  static final int SUBSCRIBE_BURST = 10;
  static final long SUBSCRIBE_REFILL_NANOS = 1_000_000_000L;
  private final long[] recent = new long[MAX_MESSAGES_PER_MINUTE];   // arrival times, a ring
  private int received;
  private int tokens = SUBSCRIBE_BURST;
  private long refilledAt;

  /** Counts a message; false when it is over the minute's limit (and then it does not count). */
  boolean message(long now) {
    int slot = received % MAX_MESSAGES_PER_MINUTE;
    if (received >= MAX_MESSAGES_PER_MINUTE && now - recent[slot] < 60_000_000_000L) return false;
    recent[slot] = now;
    received++;
    return true;
  }

  /** Takes a subscribe token; false when the bucket is empty. */
  boolean subscribe(long now) {
    if (tokens < SUBSCRIBE_BURST) {
      long earned = (now - refilledAt) / SUBSCRIBE_REFILL_NANOS;
      if (earned > 0) {
        tokens = (int) Math.min(SUBSCRIBE_BURST, tokens + earned);
        refilledAt += earned * SUBSCRIBE_REFILL_NANOS;
      }
    }
    if (tokens == 0) return false;
    if (tokens == SUBSCRIBE_BURST) refilledAt = now;   // a full bucket banks no time
    tokens--;
    return true;
  }

  static String subscribeRefusal() {
    return "too many subscribe requests: at most " + SUBSCRIBE_BURST + " at once, then 1 a second; "
        + "this one was ignored";
  }
}
