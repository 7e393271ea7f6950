package io.losswatch.event;

/**
 * A run's guard took it back to its state after step {@code to}: its log keeps the steps up to it, and the steps
 * after it ({@code abandoned}, the guard's {@code index}-th rewind) are kept apart. Sent once every step before
 * it is on disk, on the same address as the batches, so the store cuts the log before any later step comes.
 */
public record Rewound(String run, int index, long to, StepBatch abandoned) implements RunEvent {
  @Override
  public void tell(Listener to) {
    to.rewound(this);
  }
}
