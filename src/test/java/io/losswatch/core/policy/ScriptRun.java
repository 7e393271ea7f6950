package io.losswatch.core.policy;

import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import java.util.ArrayList;
import java.util.List;

/**
 * A script's run driven as the lifecycle and the Python client drive it: each step goes through the policy, and what
 * the policy asks (an lr, a rewind, a probe) is executed by the {@link TraceWorld} before the next step and
 * acknowledged, as the client acknowledges it in its next append. Optionally a person applies every lr advice shown.
 */
final class ScriptRun {
  final ScriptPolicy policy;
  final TraceWorld world;
  final List<String> alerts = new ArrayList<>();
  final List<Diagnosis> shown = new ArrayList<>();   // after each step
  final List<Double> lrPath = new ArrayList<>();     // every lr the run was set to, in order
  final List<String> events = new ArrayList<>();
  boolean diverged;
  private final boolean followAdvice;
  private long lastFollowed = Long.MIN_VALUE / 2;

  ScriptRun(ScriptPolicy policy, TraceWorld world, boolean followAdvice) {
    this.policy = policy;
    this.world = world;
    this.followAdvice = followAdvice;
    lrPath.add(world.lr());
  }

  /** Runs until the world served {@code steps} steps (a rewind numbers steps again from where it went back). */
  ScriptRun run(int steps) {
    for (int served = 0; served < steps && !diverged; served++) {
      TraceWorld.Row r = world.next();
      ScriptPolicy.Next next = policy.observe(r.step(), r.loss(), r.lr(), r.gradNorm());
      String a = policy.alert(r.step());
      if (a != null) alerts.add(r.step() + ":" + a);
      Diagnosis d = policy.shown();
      shown.add(d);
      switch (next) {
        case SET_LR -> setLr(r.step(), policy.autoLr(), "auto");
        case REWIND -> {
          events.add(r.step() + ": rewind (" + policy.trigger() + ") to " + policy.rewindTo() + " ×" + policy.rewindFactor());
          world.rewind(policy.rewindTo(), policy.rewindFactor());
          lrPath.add(world.lr());
          policy.rewound(policy.rewindTo(), world.lr());
        }
        case PROBE -> {
          List<ScriptPolicy.Outcome> outcomes = new ArrayList<>();
          for (double f : policy.probeFactors()) outcomes.add(world.probe(f, policy.probeHorizon()));
          events.add(r.step() + ": probe " + outcomes);
          policy.probed(outcomes, 1.0);
        }
        case DIVERGED -> {
          events.add(r.step() + ": diverged (" + policy.trigger() + ")");
          diverged = true;
        }
        default -> {
          // a person applying the advice shown, at most once a window (as one would click)
          Diagnosis now = policy.shown();
          if (followAdvice && now.hasAdvice() && r.step() - lastFollowed >= 20 && now.verdict() != Verdict.NON_FINITE) {
            lastFollowed = r.step();
            setLr(r.step(), now.suggestedLr(), "advice");
          }
        }
      }
    }
    return this;
  }

  private void setLr(long step, double to, String cause) {
    double from = world.lr();
    events.add(step + ": lr " + from + " → " + to + " (" + cause + ")");
    world.setLr(to);
    lrPath.add(to);
    policy.lrChanged(step + 1, from, to, cause);
  }

  /** The verdict timeline: "step:verdict" at each change. */
  String timeline() {
    StringBuilder b = new StringBuilder();
    Verdict last = null;
    for (int i = 0; i < shown.size(); i++) {
      if (shown.get(i).verdict() != last) {
        last = shown.get(i).verdict();
        b.append(i + 1).append(':').append(last.label()).append(' ');
      }
    }
    return b.toString().trim();
  }

  /** The lr path with reversals counted: 1e-4 → 1e-3 → …. */
  int reversals() {
    int r = 0;
    int dir = 0;
    for (int i = 1; i < lrPath.size(); i++) {
      int d = Double.compare(lrPath.get(i), lrPath.get(i - 1));
      if (d != 0 && dir != 0 && d != dir) r++;
      if (d != 0) dir = d;
    }
    return r;
  }

  String report() {
    return "timeline " + timeline() + "\n  alerts " + alerts + "\n  lr path " + lrPath + " (reversals " + reversals()
        + ")\n  events " + events + "\n  val_acc " + world.valAcc() + ", last: " + shown.get(shown.size() - 1);
  }
}
