package io.losswatch.run;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunSummary;
import io.vertx.core.Future;

/**
 * Where a run created through the API goes: the node asked, or, in a cluster, a less busy one. The cluster provides
 * it; a node alone keeps every run ({@link #HERE}).
 */
public interface Placement {
  /** A node as a client reaches it: its {@code --node-name} and its HTTP address. */
  record Node(String name, String url) {
  }

  /** A run created on another node: its summary there, and that node. */
  record Placed(RunSummary summary, Node node) {
  }

  /** This node (null when alone). */
  Node self();

  /** The node a new run goes to: the id of a less busy one, or null for this one. */
  String where();

  /** Creates a run of {@code spec} on node {@code node} (an id {@link #where} gave). */
  Future<Placed> create(String node, RunSpec spec);

  Placement HERE = new Placement() {
    @Override public Node self() {
      return null;
    }

    @Override public String where() {
      return null;
    }

    @Override public Future<Placed> create(String node, RunSpec spec) {
      throw new IllegalStateException("a node alone places no run elsewhere");
    }
  };
}
