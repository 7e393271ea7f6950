package io.losswatch.event;

import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * Event-bus addresses. The types that travel on them are passed by reference within a node; {@link Codecs}
 * registers them, with a wire format for those that cross nodes.
 */
public final class Events {
  /**
   * Everything runs tell, as {@link RunEvent}s: {@link StepBatch}es, {@link RunSummary}s on every change of state
   * or diagnosis (creation and deletion included), {@link Alert}s, and for the store {@link Checkpoint}s and
   * {@link Rewound}s, published. One address, so a consumer sees a run's last batch before its end.
   */
  public static final String RUNS = "losswatch.runs";

  /**
   * The same, for the runs other nodes own, re-told here for this node's clients: their summaries and, while a client
   * here follows one, its batches (or {@link Bucket}s) and alerts.
   */
  public static final String MIRRORED = "losswatch.mirrored";

  /**
   * Between nodes: each node publishes its own runs' {@link RunSummary}s here (at most one a run a second, and every
   * change of state at once), for every other node's list. Steps go only where a client follows them:
   * {@code node(n, "steps")}.
   */
  public static final String CLUSTER = "losswatch.cluster";

  /** Publishing on {@link #RUNS}: inside this node only (other nodes hear of it through {@link #CLUSTER}). */
  public static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private Events() {
  }

  /** Tells this node's consumers {@code e} ({@link #RUNS}, local only). */
  public static void publish(EventBus bus, RunEvent e) {
    bus.publish(RUNS, e, LOCAL);
  }

  /** Takes the events on {@code address} ({@link #RUNS} or {@link #MIRRORED}), each by its kind. */
  public static MessageConsumer<RunEvent> listen(EventBus bus, String address, RunEvent.Listener listener) {
    return bus.<RunEvent>localConsumer(address, m -> m.body().tell(listener));
  }

  /** Where a run's verticle takes {@link RunCommand}s (request/reply). */
  public static String commands(String run) {
    return "losswatch.run." + run;
  }

  /** Where an external run's verticle takes its script's {@link Append}s (request/reply: {@link Appended}). */
  public static String append(String run) {
    return "losswatch.run." + run + ".append";
  }

  /** Where an external run's verticle takes its script's {@link Finish} (request/reply: the run's summary). */
  public static String finish(String run) {
    return "losswatch.run." + run + ".finish";
  }

  /**
   * Where node {@code node} answers questions about its runs ({@link RunList}, {@link HistoryRead}, {@link Follow},
   * deletion, resuming, creating one there), and takes the steps of other nodes' runs its clients follow
   * ({@code "steps"}: {@link StepBatch}es, {@link Bucket}s, {@link Alert}s).
   */
  public static String node(String node, String what) {
    return NODE + node + "." + what;
  }

  private static final String NODE = "losswatch.node.";
  private static final String RUN = "losswatch.run.";

  /**
   * An address as metrics name it: a run's and a node's own addresses by their kind ({@code losswatch.run.*.append},
   * {@code losswatch.node.*.steps}), so the series stay few however many runs and nodes come and go.
   */
  public static String family(String address) {
    String prefix = address.startsWith(RUN) ? RUN : address.startsWith(NODE) ? NODE : null;
    if (prefix == null) return address;
    int dot = address.indexOf('.', prefix.length());
    return prefix + "*" + (dot < 0 ? "" : address.substring(dot));
  }

  /** Where the store tells a run how far its steps are on disk ({@link Written}, sent). */
  public static String written(String run) {
    return "losswatch.run." + run + ".written";
  }
}
