package io.losswatch.event;

import java.util.List;

/**
 * A script's append to its external run (request/reply to the run's verticle): new steps, possibly none, and the
 * commands the script has carried out since, each with the step it took effect at. A guarded run's appends say
 * their {@code cycle} (the rewinds the script executed before them; -1: not said); the first acknowledgement of an
 * append of a new cycle is the rewind's. {@code curvature}: the facts of the sharpness the script measures (null: not
 * sent with this append). The reply is {@link Appended}.
 */
public record Append(StepBatch steps, List<Ack> acks, int cycle, Curvature curvature) {
  /** The curvature's columns' names in an append ({@link StepBatch#sharpness()}, {@link StepBatch#stability()}): no metric takes them. */
  public static final List<String> CURVATURE = List.of("sharpness", "stability");

  /** Steps and acknowledgements only (a script without a guard or curvature). */
  public Append(StepBatch steps, List<Ack> acks) {
    this(steps, acks, -1, null);
  }

  /**
   * Command {@code id} took effect at step {@code step}; for a rewind, the step the script went back to. {@code error}:
   * the script could not carry it out (why; null: it did). A probe's acknowledgement carries its {@code outcomes}, the
   * {@code seconds} it took, and {@code refused} (why) when the script ran none.
   */
  public record Ack(String id, long step, String error, List<Outcome> outcomes, double seconds, String refused) {
    public Ack(String id, long step) {
      this(id, step, null, List.of(), Double.NaN, null);
    }
  }

  /**
   * One look-ahead branch: the lr ×{@code factor} for the probe's horizon; {@code endLoss} the mean of its last
   * max(1, H/10) losses (NaN once it went non-finite), {@code finite} whether it stayed finite, {@code error} why it
   * failed in the script (null: it did not).
   */
  public record Outcome(double factor, double endLoss, boolean finite, String error) {
  }

  /**
   * How the script measures sharpness: λ(P⁻¹H) when {@code preconditioned} (the optimizer's preconditioner applied:
   * Adam, RMSprop, Adagrad), and the optimizer's stability {@code threshold} (NaN: not said).
   */
  public record Curvature(boolean preconditioned, double threshold) {
  }
}
