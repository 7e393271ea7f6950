package io.losswatch.event;

/**
 * What runs tell on {@link Events#RUNS} (and what a cluster node re-tells on {@link Events#MIRRORED}): a sealed
 * family, so a consumer takes each kind by its type, through a {@link Listener}, and never asks an object what it
 * is. A new kind of event adds a method to the listener: every consumer that must hear of it is then found by
 * the compiler, not by a search for {@code instanceof}.
 */
public sealed interface RunEvent permits StepBatch, RunSummary, Alert, Checkpoint, Rewound {
  /** Hands this event to the listener's method for its kind. */
  void tell(Listener to);

  /** Takes the kinds of event it cares about; the others pass it by. */
  interface Listener {
    default void batch(StepBatch b) {
    }

    default void summary(RunSummary s) {
    }

    default void alert(Alert a) {
    }

    default void checkpoint(Checkpoint c) {
    }

    default void rewound(Rewound r) {
    }
  }
}
