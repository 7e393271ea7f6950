package io.losswatch.event;

import java.util.List;

/**
 * What an external run answers an {@link Append}, once every step it holds is stored: how many of the steps it took
 * ({@code accepted}); of those at or below its last step, how many it had already ({@code duplicates}: sent again) and
 * how many it never had and never will ({@code skipped}: steps must increase); its last step; and what the training
 * loop must do, every command until it is acknowledged.
 */
public record Appended(long accepted, long duplicates, long skipped, long lastStep, List<Command> commands) {
  /**
   * An order for the script: {@code lr} (use {@code lr}, which is {@code factor} times the lr it reported last),
   * {@code pause}, {@code resume}, {@code stop} (with its {@code reason}: stopped, diverged), {@code rewind} (back to
   * its newest snapshot at or before step {@code toStep}, the lr ×{@code factor}), or {@code probe} (the lr ×each of
   * {@code factors} for {@code horizon} steps from the exact state now, then back). Fields an op does not use are NaN,
   * null, empty or -1.
   */
  public record Command(String id, String op, double lr, double factor, String reason, long toStep, double[] factors,
      int horizon) {
    private static final double[] NONE = {};

    public static Command lr(String id, double lr, double factor) {
      return new Command(id, "lr", lr, factor, null, -1, NONE, -1);
    }

    /** {@code op}: pause or resume. */
    public static Command plain(String id, String op) {
      return new Command(id, op, Double.NaN, Double.NaN, null, -1, NONE, -1);
    }

    public static Command stop(String id, String reason) {
      return new Command(id, "stop", Double.NaN, Double.NaN, reason, -1, NONE, -1);
    }

    public static Command rewind(String id, long toStep, double lrFactor) {
      return new Command(id, "rewind", Double.NaN, lrFactor, null, toStep, NONE, -1);
    }

    public static Command probe(String id, double[] factors, int horizon) {
      return new Command(id, "probe", Double.NaN, Double.NaN, null, -1, factors.clone(), horizon);
    }
  }
}
