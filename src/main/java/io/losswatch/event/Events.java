package io.losswatch.event;

import io.vertx.core.eventbus.DeliveryOptions;

/**
 * Event-bus addresses. The types that travel on them are passed by reference within a node; {@link Codecs}
 * registers them, with a wire format for those that cross nodes.
 */
public final class Events {
  /**
   * Everything runs tell: {@link StepBatch}es, {@link RunSummary}s on every change of state or diagnosis
   * (creation and deletion included), and {@link Alert}s, published. One address, so a consumer sees a run's last batch before its end.
   */
  public static final String RUNS = "losswatch.runs";

  /** The same, for the runs other nodes own: their owners' events, re-told here for this node's clients. */
  public static final String MIRRORED = "losswatch.mirrored";

  /** Between nodes: each node publishes its own runs' events here, for every other node to mirror. */
  public static final String CLUSTER = "losswatch.cluster";

  /** Publishing on {@link #RUNS}: inside this node only (other nodes hear of it through {@link #CLUSTER}). */
  public static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

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

  /** Where node {@code node} answers questions about its runs: {@link RunList}, {@link HistoryRead}, deletion, resuming. */
  public static String node(String node, String what) {
    return "losswatch.node." + node + "." + what;
  }

  /** Where the store tells a run how far its steps are on disk ({@link Written}, sent). */
  public static String written(String run) {
    return "losswatch.run." + run + ".written";
  }
}
