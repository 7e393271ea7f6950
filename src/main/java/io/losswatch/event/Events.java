package io.losswatch.event;

import java.util.List;

/** Event-bus addresses and the types that travel on them, all local-only and passed by reference. */
public final class Events {
  /** {@link StepBatch}es of every run, published. */
  public static final String STEPS = "losswatch.steps";
  /** {@link RunSummary}s, published on every change of a run's state, creation and deletion included. */
  public static final String RUNS = "losswatch.runs";

  static final List<Class<?>> TYPES = List.of(StepBatch.class, RunCommand.class, RunSummary.class);

  private Events() {
  }

  /** Where a run's verticle takes {@link RunCommand}s (request/reply). */
  public static String commands(String run) {
    return "losswatch.run." + run;
  }
}
