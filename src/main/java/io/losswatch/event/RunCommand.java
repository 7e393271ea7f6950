package io.losswatch.event;

/**
 * A request to a run's verticle; it replies with the run's new {@link RunSummary}, or for {@code BRANCH} with a
 * {@link Fork} of its state at {@code step} (-1: its current step), or fails with a {@link RunRefusal}.
 */
public record RunCommand(Kind kind, double lr, long step) {
  /** {@code DESCRIBE}: the run's tags or notes changed ({@link io.losswatch.run.Run#describe}); tell everyone. */
  public enum Kind { SET_LR, APPLY_ADVICE, PAUSE, RESUME, STOP, BRANCH, DESCRIBE }

  public static RunCommand of(Kind kind) {
    return new RunCommand(kind, Double.NaN, -1);
  }

  public static RunCommand setLr(double lr) {
    return new RunCommand(Kind.SET_LR, lr, -1);
  }

  public static RunCommand branch(long step) {
    return new RunCommand(Kind.BRANCH, Double.NaN, step);
  }
}
