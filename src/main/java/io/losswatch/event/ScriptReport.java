package io.losswatch.event;

/**
 * What a script's run does beyond its steps, for its summary: its look-ahead probes ({@code probes} run, the
 * {@code probeSteps} they trained and the {@code probeSeconds} they took, against a {@code budget} of the run's steps;
 * NaN: the script runs none) and what {@code autoLr} may do on it (in words). How its script measures the sharpness
 * is the summary's {@link RunSummary#curvature()}, as for a built-in run.
 */
public record ScriptReport(int probes, long probeSteps, double probeSeconds, double budget, String autoLr) {
}
