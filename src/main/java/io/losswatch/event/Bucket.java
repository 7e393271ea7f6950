package io.losswatch.event;

/**
 * A run's steps since its last bucket as a live client is shown them: their lowest-loss, highest-loss and last points
 * (NaN counts as the highest), in step order, each once. What a node that follows another node's run live takes in
 * instead of every step; only live subscriptions take it (it is no stretch of every step).
 */
public record Bucket(StepBatch points) implements RunEvent {
  public String run() {
    return points.run();
  }

  @Override
  public void tell(Listener to) {
    to.bucket(this);
  }
}
