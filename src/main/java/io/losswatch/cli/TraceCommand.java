package io.losswatch.cli;

import io.losswatch.core.RunSpec;
import io.losswatch.core.TraceCsv;
import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.policy.Advisor;
import io.losswatch.core.config.SpecException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code losswatch trace --spec <inline JSON | path>}: runs a spec headless and prints
 * {@code step,loss,lr,grad_norm} as CSV, every double in shortest round-trip form ({@link Double#toString}).
 * {@code --help} prints its usage. Anything wrong with the command line or the spec (missing, empty, unreadable,
 * invalid) prints one line to stderr naming what to give, nothing to stdout, and exits with status 2.
 */
public final class TraceCommand {
  static final String USAGE = """
      usage: java -jar losswatch.jar trace --spec <JSON or file>

      Runs one RunSpec headless and prints step,loss,lr,grad_norm as CSV, one row per step.
        --spec '{"problem":"quadratic","optimizer":{"type":"sgd","lr":0.1},"steps":30}'   the spec itself
        --spec run.json                                                                     a file holding it
      The RunSpec is the server's (see the README); its steps_per_second is ignored here;
      auto_lr is followed as the server follows it, so the trace equals the live run.
      An invalid spec prints one line naming the field to stderr and exits 2.
      """;
  /** What every complaint about --spec ends with. */
  private static final String GIVE = "give the RunSpec as inline JSON (--spec '{\"problem\": ...}') or the path of a "
      + "JSON file (--spec run.json); trace --help says more";

  private TraceCommand() {
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    String specArg = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--help") || args[i].equals("-h")) {
        out.print(USAGE);
        return 0;
      } else if (args[i].equals("--spec") && i + 1 < args.length) {
        specArg = args[++i];
      } else if (args[i].startsWith("--spec=")) {
        specArg = args[i].substring("--spec=".length());
      } else {
        err.println(args[i].equals("--spec") ? "trace: --spec needs a value: " + GIVE
            : "trace: unknown argument " + args[i] + ": " + GIVE);
        return 2;
      }
    }
    if (specArg == null) {
      err.println("trace: --spec is required: " + GIVE);
      return 2;
    }
    if (specArg.isBlank()) {
      err.println("trace: --spec is empty: " + GIVE);
      return 2;
    }
    RunSpec spec;
    try {
      spec = RunSpec.parse(readSpec(specArg));
    } catch (SpecException e) {
      err.println("trace: invalid spec: " + e.getMessage());
      return 2;
    } catch (IOException | InvalidPathException e) {
      err.println("trace: cannot read the spec file " + specArg + " (" + why(e) + "): " + GIVE);
      return 2;
    }
    try {
      Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
      write(spec, w);
      w.flush();
    } catch (IOException e) {
      err.println("trace: cannot write: " + e.getMessage());
      return 1;
    }
    return 0;
  }

  /** Writes the header and one row per step of the run. */
  public static void write(RunSpec spec, Writer w) throws IOException {
    Trainer trainer = new Trainer(spec);
    Diagnoser diagnoser = new Diagnoser();
    Advisor advisor = new Advisor(diagnoser, true);
    w.write(TraceCsv.HEADER);
    StringBuilder row = new StringBuilder(96);
    for (int t = 0; t < spec.steps(); t++) {
      trainer.step();
      row.setLength(0);
      w.append(TraceCsv.row(row, trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm()));
      if (!spec.autoLr()) continue;
      // auto_lr as the server's run follows it: the same diagnosis, the same proof, at the same step
      diagnoser.observe(trainer.stepsTaken(), trainer.loss(), trainer.lr(), trainer.gradNorm(), trainer.updateCosine(),
          trainer.efficiency());
      if (advisor.needsProof(trainer)) advisor.prove(Long.MAX_VALUE);
      double lr = advisor.takeAutoLr();
      if (!Double.isNaN(lr)) {
        trainer.setLr(lr);
        diagnoser.reset();
      }
    }
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
