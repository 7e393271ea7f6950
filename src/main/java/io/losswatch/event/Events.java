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

  /** The same, for the runs other nodes own: their owners' events, re-told here for this node's clients. */
  public static final String MIRRORED = "losswatch.mirrored";

  /** Between nodes: each node publishes its own runs' events here, for every other node to mirror. */
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

  /** Where node {@code node} answers questions about its runs: {@link RunList}, {@link HistoryRead}, deletion, resuming. */
  public static String node(String node, String what) {
    return "losswatch.node." + node + "." + what;
  }

  /** Where the store tells a run how far its steps are on disk ({@link Written}, sent). */
  public static String written(String run) {
    return "losswatch.run." + run + ".written";
  }
}
