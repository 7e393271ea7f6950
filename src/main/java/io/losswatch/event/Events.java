package io.losswatch.event;

import java.util.List;

/** Event-bus addresses and the types that travel on them, all local-only and passed by reference. */
public final class Events {
  /**
   * Everything runs tell: {@link StepBatch}es, {@link RunSummary}s on every change of state or diagnosis
   * (creation and deletion included), and {@link Alert}s, published. One address, so a consumer sees a run's last batch before its end.
   */
  public static final String RUNS = "losswatch.runs";

  static final List<Class<?>> TYPES = List.of(StepBatch.class, RunCommand.class, RunSummary.class, Alert.class,
      Written.class, Append.class, Appended.class, Finish.class, Checkpoint.class, Fork.class, Rewound.class);

  private Events() {
  }

  /** Where a run's verticle takes {@link RunCommand}s (request/reply). */
  public static String commands(String run) {
    return "losswatch.run." + run;
  }

  /** Where an external run's verticle takes {@link Append}s and its {@link Finish} (request/reply). */
  public static String ingest(String run) {
    return "losswatch.run." + run + ".ingest";
  }

  /** Where the store tells a run how far its steps are on disk ({@link Written}, sent). */
  public static String written(String run) {
    return "losswatch.run." + run + ".written";
  }
}
