package io.losswatch.cli;

import io.losswatch.core.RunSpec;
import io.losswatch.core.TraceCsv;
import io.losswatch.core.Trainer;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.policy.Policy;
import io.losswatch.core.state.Snapshots;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code losswatch trace --spec <inline JSON | path> [--curvature]}: runs a spec headless and prints
 * {@code step,loss,lr,grad_norm} (with {@code --curvature}, {@code ,sharpness,stability} too) as CSV, every double
 * in shortest round-trip form ({@link Double#toString}).
 * {@code --help} prints its usage. Anything wrong with the command line or the spec (missing, empty, unreadable,
 * invalid) prints one line to stderr naming what to give, nothing to stdout, and exits with status 2.
 */
@Command(name = "trace", sortOptions = false,
    synopsisHeading = "",
    customSynopsis = "usage: java -jar losswatch.jar trace --spec <JSON or file>",
    descriptionHeading = "%n",
    description = {
        "Runs one RunSpec headless and prints step,loss,lr,grad_norm as CSV, one row per step.",
        "  --spec '{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":30}'   the spec itself",
        "  --spec run.json                                                                     a file holding it",
        "  --curvature   two more columns, sharpness,stability: measured every curvature_every steps",
        "                (a spec option, 500 by default), NaN on the steps between",
        "The RunSpec is the server's (docs/runspec.md); its steps_per_second is ignored here;",
        "auto_lr is followed as the server follows it, so the trace equals the live run.",
        "An invalid spec prints one line naming the field to stderr and exits 2."},
    optionListHeading = "%noptions:%n")
public final class TraceCommand implements Callable<Integer>, Cli.Hinted {
  /** What every complaint about --spec ends with. */
  private static final String GIVE = "give the RunSpec as inline JSON (--spec '{\"problem\": ...}') or the path of a "
      + "JSON file (--spec run.json); trace --help says more";
  @Option(names = "--spec", paramLabel = "<JSON or file>", description = "the RunSpec: inline JSON, or a file's path")
  String specArg;
  @Option(names = "--curvature", description = "two more columns, sharpness,stability")
  boolean curvature;
  @Mixin
  Cli.Help help;
  @Spec
  CommandSpec self;

  @Override
  public String hint() {
    return GIVE;
  }

  @Override
  public Integer call() {
    if (specArg == null) return Cli.refuse(self, "--spec: is required; " + GIVE);
    if (specArg.isBlank()) return Cli.refuse(self, "--spec: is empty; " + GIVE);
    RunSpec spec;
    try {
      spec = RunSpec.parse(readSpec(specArg));
    } catch (SpecException e) {
      return Cli.refuse(self, "invalid spec: " + e.getMessage());
    } catch (IOException | InvalidPathException e) {
      return Cli.refuse(self, "cannot read the spec file " + specArg + " (" + why(e) + "); " + GIVE);
    }
    PrintWriter out = self.commandLine().getOut();
    try {
      Writer w = new BufferedWriter(out, 1 << 16);
      write(spec, w, curvature);
      w.flush();
    } catch (IOException e) {
      // a PrintWriter never throws: it keeps the error, asked below
    }
    if (out.checkError()) {
      self.commandLine().getErr().println("trace: cannot write the trace (standard output closed?)");
      return 1;
    }
    return 0;
  }

  /**
   * Writes the header and one row per step of the run. With {@code auto_lr}, a {@code guard} or
   * {@code stop_on_divergence} (a range test), the run follows
   * them as the server's does, step for step (the same diagnosis, proofs and rewinds), and the rows are the run as
   * it stands at its end: a rewind takes back the rows after the step it goes back to. Like the server, such a
   * run ends at a non-finite loss its guard does not take.
   */
  public static void write(RunSpec spec, Writer w) throws IOException {
    write(spec, w, false);
  }

  /**
   * The run's rows as the server's {@code steps.csv} of the same built-in run holds them: with the sharpness and
   * stability columns when some step of the run was measured, without them otherwise.
   */
  public static String export(RunSpec spec) throws IOException {
    java.io.StringWriter all = new java.io.StringWriter();
    write(spec, all, true);
    String csv = all.toString();
    StringBuilder plain = new StringBuilder(csv.length());
    for (String line : csv.split("\n")) {
      if (line.startsWith("step,")) {
        plain.append(TraceCsv.HEADER);
        continue;
      }
      int stability = line.lastIndexOf(',');
      int sharpness = line.lastIndexOf(',', stability - 1);
      if (!line.substring(sharpness + 1, stability).equals("NaN")) return csv;   // a measured step
      plain.append(line, 0, sharpness).append('\n');
    }
    return plain.toString();
  }

  /** {@link #write(RunSpec, Writer)}, with the sharpness and stability columns if {@code curvature}. */
  public static void write(RunSpec spec, Writer w, boolean curvature) throws IOException {
    Trainer trainer = new Trainer(spec);
    w.write(curvature ? TraceCsv.CURVATURE_HEADER : TraceCsv.HEADER);
    StringBuilder row = new StringBuilder(128);
    if (!spec.autoLr() && spec.guard() == null && spec.stopOnDivergence() == null) {
      for (int t = 0; t < spec.steps(); t++) {
        trainer.step();
        row.setLength(0);
        w.append(row(row, trainer, curvature));
      }
      return;
    }
    Diagnoser diagnoser = new Diagnoser();
    Policy policy = new Policy(spec, diagnoser, trainer, 0);
    ArrayDeque<String> pending = new ArrayDeque<>();   // rows a rewind may still take back
    for (Policy.Next next = Policy.Next.STEP; next != Policy.Next.DIVERGED && next != Policy.Next.FINISHED; ) {
      trainer.step();
      row.setLength(0);
      pending.addLast(row(row, trainer, curvature).toString());
      Verdict before = diagnoser.current().verdict();
      diagnoser.observe(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm(), trainer.updateCosine(),
          trainer.efficiency());
      next = policy.afterStep(trainer, before);
      if (next == Policy.Next.REWIND) {
        Snapshots.Snapshot to = policy.rewindTarget(trainer.stepsTaken());
        trainer = policy.rewind(trainer, to);
        while (!pending.isEmpty() && step(pending.peekLast()) > to.step()) pending.removeLast();
        diagnoser.reset();
      } else if (next == Policy.Next.PROVE) {
        policy.prove(Long.MAX_VALUE);
        double lr = policy.takeAutoLr();
        if (!Double.isNaN(lr)) {
          trainer.setLr(lr);
          diagnoser.reset();
        }
      }
      long settled = policy.snapshots().oldest().step();   // no rewind goes back before the oldest kept state
      while (!pending.isEmpty() && step(pending.peekFirst()) <= settled) w.write(pending.removeFirst());
    }
    for (String r : pending) w.write(r);
  }

  private static StringBuilder row(StringBuilder b, Trainer t, boolean curvature) {
    return curvature ? TraceCsv.row(b, t.stepsTaken(), t.loss(), t.lr(), t.gradNorm(), t.sharpness(), t.stability())
        : TraceCsv.row(b, t.stepsTaken(), t.loss(), t.lr(), t.gradNorm());
  }

  private static long step(String row) {
    return Long.parseLong(row.substring(0, row.indexOf(',')));
  }

  private static String why(Exception e) {
    if (e instanceof NoSuchFileException) return "no such file";
    if (e instanceof AccessDeniedException) return "permission denied";
    if (e instanceof InvalidPathException) return "not a path";
    return e.getMessage();
  }

  /** Inline JSON starts with '{'; anything else is a path. */
  private static String readSpec(String arg) throws IOException {
    if (arg.stripLeading().startsWith("{")) return arg;
    Path p = Path.of(arg);
    if (Files.isDirectory(p)) throw new IOException("a folder, not a file");
    return Files.readString(p, StandardCharsets.UTF_8);
  }
}
