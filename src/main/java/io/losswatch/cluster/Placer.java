package io.losswatch.cluster;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.event.Events;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Placement;
import io.losswatch.run.Run;
import io.losswatch.run.RunRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Places a run created through the API on the live node with the fewest running runs, counted from the summaries
 * every node already has, when the node asked runs at least {@link #MARGIN} more: a busy node's new runs go to a
 * quieter one, and a cluster whose nodes are about as busy keeps each run where it was asked for (a client's node is
 * usually where it wants its run). A run just placed counts at once (the answer registers it), so a burst of
 * creations spreads instead of piling on the node that was least busy when it began.
 */
final class Placer implements Placement {
  /** How many more running runs the node asked must have than the least busy one before a run goes there. */
  static final int MARGIN = 2;
  /** How long the other node has to create the run; after that it is created here. */
  static final long ASK_MS = 10_000;
  private final Vertx vertx;
  private final String me;
  private final Node self;
  private final RunRegistry runs;
  private final Supplier<List<String>> members;

  Placer(Vertx vertx, String me, Node self, RunRegistry runs, Supplier<List<String>> members) {
    this.vertx = vertx;
    this.me = me;
    this.self = self;
    this.runs = runs;
    this.members = members;
  }

  @Override public Node self() {
    return self;
  }

  @Override public String where() {
    Map<String, Integer> load = new TreeMap<>();   // by node id: of equally quiet nodes, the same one first
    for (String node : members.get()) load.put(node, 0);
    load.putIfAbsent(me, 0);
    for (Run r : runs.unordered()) {
      RunState s = r.summary().state();
      if (s == RunState.CREATED || s == RunState.RUNNING) load.computeIfPresent(r.local() ? me : r.owner(), (k, n) -> n + 1);
    }
    String least = me;
    for (var e : load.entrySet()) if (e.getValue() < load.get(least)) least = e.getKey();
    return load.get(me) - load.get(least) >= MARGIN ? least : null;
  }

  @Override public Future<Placed> create(String node, RunSpec spec) {
    return vertx.eventBus().<RunSummary>request(Events.node(node, "create"), Json.write(spec.json()),
        new DeliveryOptions().setSendTimeout(ASK_MS))
        .map(m -> new Placed(m.body(), new Node(m.headers().get("name"), m.headers().get("url"))));
  }
}
