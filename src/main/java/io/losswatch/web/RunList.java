package io.losswatch.web;

import io.losswatch.train.Run;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every run, in the registry's order (oldest first), and where each one is: what a {@code "*"} subscription starts
 * from. One list, shared by the sessions that subscribe while no run comes or goes.
 */
record RunList(List<Run> runs, Map<String, Integer> at) {
  static RunList of(List<Run> runs) {
    Map<String, Integer> at = new HashMap<>(runs.size() * 2);
    for (int i = 0; i < runs.size(); i++) at.put(runs.get(i).id(), i);
    return new RunList(runs, at);
  }
}
