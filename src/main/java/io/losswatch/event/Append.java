package io.losswatch.event;

import java.util.List;

/**
 * A script's append to its external run (request/reply to the run's verticle): new steps, possibly none, and
 * the commands the script has applied since, each with the step it took effect at. The reply is
 * {@link Appended}.
 */
public record Append(StepBatch steps, List<Ack> acks) {
  /** Command {@code id} took effect at step {@code step}. */
  public record Ack(String id, long step) {
  }
}
