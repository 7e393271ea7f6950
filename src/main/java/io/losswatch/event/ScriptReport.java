package io.losswatch.event;

/**
 * What a script's run does beyond its steps, for its summary: its look-ahead probes ({@code probes} run, the
 * {@code probeSteps} they trained and the {@code probeSeconds} they took, against a {@code budget} of the run's steps;
 * NaN: the script runs none), what {@code autoLr} may do on it (in words), and how its script measures the sharpness
 * ({@code curvature}: null before its first measurement).
 */
public record ScriptReport(int probes, long probeSteps, double probeSeconds, double budget, String autoLr,
    Append.Curvature curvature) {
  /** The same report with the curvature's facts as the script last sent them. */
  public ScriptReport withCurvature(Append.Curvature c) {
    return new ScriptReport(probes, probeSteps, probeSeconds, budget, autoLr, c);
  }
}
