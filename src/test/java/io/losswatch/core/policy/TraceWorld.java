package io.losswatch.core.policy;

import io.losswatch.core.diagnosis.ExternalTraces;
import io.losswatch.core.diagnosis.ExternalTraces.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A script's run made of real recorded runs ({@link ExternalTraces}), that answers the commands a policy sends as the
 * Python client would: an lr change continues on the run recorded at the new lr from the point where its (smoothed)
 * loss first reached the loss the run is at now — the same network as trained as this one, at the new lr — or, when
 * that lr never got there, from its start (a too-large lr blows up from anywhere); a rewind goes back to a served
 * step and scales the lr; a probe tries each factor for H steps the same way without moving the run. A network that
 * blew up and died stays dead at any lr (it continues on its family's dead run), until a rewind to before its blow-up.
 * An approximation of a live run, for testing decisions on real minibatch losses; the real thing runs torch.
 */
final class TraceWorld {
  /** Recorded constant-lr runs of one optimizer, by lr, and the run a dead network continues on. */
  record Family(String name, Map<Double, String> byLr, String dead) {
    static final Family SGD = new Family("sgd", Map.of(1e-5, "sgd_lr1e-5", 1e-4, "sgd_lr1e-4", 1e-3, "sgd_lr1e-3",
        1e-2, "sgd_lr1e-2", 1e-1, "sgd_lr1e-1", 1.0, "sgd_lr1", 10.0, "sgd_lr10"), "sgd_lr10");
    static final Family ADAM = new Family("adam", Map.of(1e-3, "adam_lr1e-3", 1e-2, "adam_lr0.01", 1e-1, "adam_lr0.1",
        1.0, "adam_lr1"), "adam_lr1_cut_at_23");
    static final Family MOMENTUM = new Family("sgd momentum 0.9", Map.of(0.05, "sgd_lr0.05_momentum",
        0.5, "sgd_lr0.5_momentum", 5.0, "sgd_lr5_momentum"), "sgd_lr5_momentum");
  }

  /** One served step: what the script logged. */
  record Row(long step, double loss, double lr, double gradNorm) {
  }

  private static final Map<String, Loaded> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

  /** A trace with its smoothed loss and the index after which it is dead (or MAX_VALUE). */
  private record Loaded(Trace trace, double[] smooth, int deadFrom) {
    static Loaded of(String name) {
      return CACHE.computeIfAbsent(name, n -> {
        Trace t = ExternalTraces.load(n);
        double[] s = new double[t.size()];
        double e = Double.NaN;
        int blowUp = -1;
        for (int i = 0; i < t.size(); i++) {
          double l = Double.isFinite(t.loss()[i]) ? t.loss()[i] : 1e30;
          e = Double.isNaN(e) ? l : e + 2.0 / 21 * (l - e);
          s[i] = e;
          if (blowUp < 0 && l >= 10 * Math.log(10)) blowUp = i;
        }
        // dead: it blew up and its final val_acc is a guess
        int deadFrom = blowUp >= 0 && t.finalValAcc() < 0.2 ? blowUp : Integer.MAX_VALUE;
        return new Loaded(t, s, deadFrom);
      });
    }
  }

  private final Family family;
  private final TreeMap<Double, String> lrs;
  private Loaded at;
  private int index;   // the next row of `at` to serve
  private double lr;
  private long step;
  private double ewma = Double.NaN;
  private final List<double[]> served = new ArrayList<>();   // per served step: loss, ewma, dead (0/1), lr
  private final List<String> log = new ArrayList<>();

  TraceWorld(Family family, double lr) {
    this.family = family;
    this.lrs = new TreeMap<>(family.byLr());
    this.lr = lr;
    this.at = Loaded.of(nearest(lr));
  }

  private String nearest(double x) {
    String best = null;
    double d = Double.POSITIVE_INFINITY;
    for (Map.Entry<Double, String> e : lrs.entrySet()) {
      double dist = Math.abs(Math.log(e.getKey() / x));
      if (dist < d - 1e-9) {
        d = dist;
        best = e.getValue();
      }
    }
    return best;
  }

  boolean dead() {
    return index > at.deadFrom();
  }

  /** Serves the next step. */
  Row next() {
    Trace t = at.trace();
    int i = index < t.size() ? index : t.size() - 100 + (index - t.size()) % 100;   // past its end: its last stretch again
    index++;
    double loss = t.loss()[i];
    step++;
    ewma = Double.isNaN(ewma) ? loss : ewma + 2.0 / 21 * (loss - ewma);
    served.add(new double[] {loss, ewma, dead() ? 1 : 0, lr});
    return new Row(step, loss, lr, t.gradNorm()[i]);
  }

  /** The held-out accuracy of the network as it stands. */
  double valAcc() {
    return at.trace().valAccAt(Math.min(index, at.trace().size() - 1));
  }

  double lr() {
    return lr;
  }

  long step() {
    return step;
  }

  List<String> log() {
    return log;
  }

  /** The script sets the lr from its next step on. */
  void setLr(double to) {
    log.add("step " + step + ": lr " + lr + " → " + to);
    lr = to;
    if (dead()) {
      Loaded d = Loaded.of(family.dead());
      if (d != at) {
        at = d;
        index = Math.max(index, d.deadFrom() + 1);
      }
      return;
    }
    splice(Loaded.of(nearest(to)), ewma);
  }

  /** The script goes back to step {@code to} (the state it had after it) with its lr ×{@code factor}. */
  void rewind(long to, double factor) {
    log.add("step " + step + ": rewind to " + to + ", lr " + lr + " → " + lr * factor);
    lr *= factor;
    boolean wasDead = to > 0 && served.get((int) to - 1)[2] == 1;
    double level = to == 0 ? Double.NaN : served.get((int) to - 1)[1];
    while (served.size() > to) served.remove(served.size() - 1);
    step = to;
    ewma = level;
    Loaded target = Loaded.of(wasDead ? family.dead() : nearest(lr));
    if (to == 0) {
      at = target;
      index = 0;
    } else if (wasDead) {
      at = target;
      index = Math.max(index, target.deadFrom() + 1);
    } else {
      splice(target, level);
    }
  }

  /** Continues on {@code target} from where its smoothed loss first reached {@code level} (else from its start). */
  private void splice(Loaded target, double level) {
    int j = 0;
    if (!Double.isNaN(level)) {
      while (j < target.smooth().length && target.smooth()[j] > level) j++;
      if (j == target.smooth().length) j = 0;
    }
    at = target;
    index = j;
  }

  /** What a probe's branch at ×{@code factor} for {@code horizon} steps would come to, the run left as it is. */
  ScriptPolicy.Outcome probe(double factor, int horizon) {
    Loaded target;
    int j;
    if (dead()) {
      target = Loaded.of(family.dead());
      j = Math.max(index, target.deadFrom() + 1);
    } else {
      target = factor == 1 ? at : Loaded.of(nearest(lr * factor));
      j = index;
      if (factor != 1) {
        j = 0;
        while (j < target.smooth().length && target.smooth()[j] > ewma) j++;
        if (j == target.smooth().length) j = 0;
      }
    }
    int tail = Math.max(1, horizon / 10);
    double sum = 0;
    for (int k = 0; k < horizon; k++) {
      int i = Math.min(j + k, target.trace().size() - 1);
      double l = target.trace().loss()[i];
      if (!Double.isFinite(l)) return new ScriptPolicy.Outcome(factor, Double.NaN, false);
      if (k >= horizon - tail) sum += l;
    }
    return new ScriptPolicy.Outcome(factor, sum / tail, true);
  }
}
