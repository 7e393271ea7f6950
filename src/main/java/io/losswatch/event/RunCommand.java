package io.losswatch.event;

/** A request to a run's verticle; it replies with the run's new {@link RunSummary} or fails with a status. */
public record RunCommand(Kind kind, double lr) {
  public enum Kind { SET_LR, APPLY_ADVICE, PAUSE, RESUME, STOP }

  public static RunCommand of(Kind kind) {
    return new RunCommand(kind, Double.NaN);
  }
}
