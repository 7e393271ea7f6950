package io.losswatch.event;

import java.util.List;

/** A node's runs, told to a node that joins the cluster so it knows them before their next change. */
public record RunList(List<ClusterSummary> runs) {
}
