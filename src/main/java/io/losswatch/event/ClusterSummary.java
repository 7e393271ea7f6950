package io.losswatch.event;

import java.util.Map;

/**
 * A run's summary as its owner tells the other nodes of the cluster, with what they cannot read themselves (they keep
 * none of its steps): each metric's last, lowest and highest value, by name. {@code metrics} is null when the owner
 * does not know them yet (a run it read back from disk, whose log it has yet to read): the ones told before stand.
 */
public record ClusterSummary(RunSummary summary, Map<String, MetricSummary> metrics) {
}
