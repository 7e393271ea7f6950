package io.losswatch.event;

import java.util.List;

/**
 * A script's append to its external run (request/reply to the run's verticle): new steps, possibly none, and
 * the commands the script has applied since, each with the step it took effect at. The reply is
 * {@link Appended}.
 *
 * @param curvature what the script's curvature columns measure, when the append says so (once is enough); else null
 */
public record Append(StepBatch steps, List<Ack> acks, Curvature curvature) {
  public Append(StepBatch steps, List<Ack> acks) {
    this(steps, acks, null);
  }

  /** Command {@code id} took effect at step {@code step}. */
  public record Ack(String id, long step) {
  }

  /** The sharpness is λ(P⁻¹H) when {@code preconditioned}; the optimizer's stability threshold (NaN: not said). */
  public record Curvature(boolean preconditioned, double threshold) {
  }
}
