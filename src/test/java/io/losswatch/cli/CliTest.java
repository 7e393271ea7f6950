package io.losswatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.SpecException;
import io.losswatch.server.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The command line as a user meets it, without starting anything: every command's {@code --help}, one line naming
 * what is wrong with status 2, serve's options declared once and the docs' tables held to that declaration.
 */
class CliTest {
  private record Result(int status, String out, String err) {
  }

  private static Result losswatch(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = LosswatchCommand.run(args, Cli.writer(out), Cli.writer(err));
    return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void everyCommandHasHelpWithStatus0() {
    for (List<String> args : List.of(List.of("--help"), List.of("-h"), List.of("help"), List.of("serve", "--help"),
        List.of("serve", "-h"), List.of("help", "serve"), List.of("trace", "--help"), List.of("help", "trace"),
        List.of("bench", "--help"), List.of("help", "help"))) {
      Result r = losswatch(args.toArray(String[]::new));
      assertEquals(0, r.status, args + ": " + r.err);
      assertEquals("", r.err, args.toString());
      assertTrue(r.out.toLowerCase(java.util.Locale.ROOT).contains("usage: "), args + ": " + r.out);
    }
    String top = losswatch("--help").out;
    for (String said : List.of("java -jar losswatch.jar [serve] [options]", "trace --spec <JSON or file>",
        "serve's options:", "--cluster-secret-file", "commands:", "losswatch-bench.jar")) {
      assertTrue(top.contains(said), said + " in " + top);
    }
    String serve = losswatch("serve", "--help").out;
    for (OptionSpec o : serveOptions()) assertTrue(serve.contains(o.longestName()), o.longestName() + " in " + serve);
  }

  @Test
  void aWrongCommandLineIsOneLineNamingWhatIsWrongWithStatus2() {
    Map<List<String>, String> said = new LinkedHashMap<>();
    said.put(List.of("--nope"), "losswatch: --nope: unknown option; try --help");
    said.put(List.of("--port", "0", "--nope=1"), "losswatch: --nope: unknown option; try --help");
    said.put(List.of("serve", "--nope"), "serve: --nope: unknown option; try serve --help");
    said.put(List.of("nope"), "losswatch: nope: unknown command; try --help");
    said.put(List.of("serve", "nope"), "serve: nope: unexpected argument; try serve --help");
    said.put(List.of("--port", "0", "trace", "--spec", "{}"), "losswatch: --port: not an option of trace; try --help");
    said.put(List.of("--port"), "losswatch: --port: needs a value; try --help");
    said.put(List.of("serve", "--port", "x"), "serve: --port: must be an integer in [0, 65535], got x");
    said.put(List.of("--port=65536"), "serve: --port: must be an integer in [0, 65535], got 65536");
    said.put(List.of("--stall-after", "soon"), "serve: --stall-after: must be a positive duration such as 30s, 10m"
        + " or 1h, got soon");
    said.put(List.of("--demo", "some"), "serve: --demo: must be gallery or none, got some");
    said.put(List.of("trace", "--nope"), "trace: --nope: unknown option; give the RunSpec as inline JSON"
        + " (--spec '{\"problem\": ...}') or the path of a JSON file (--spec run.json); trace --help says more");
    for (var e : said.entrySet()) {
      Result r = losswatch(e.getKey().toArray(String[]::new));
      assertEquals(2, r.status, e.getKey() + ": " + r.err);
      assertEquals("", r.out, e.getKey().toString());
      assertEquals(e.getValue() + "\n", r.err, e.getKey().toString());
    }
    Result bench = losswatch("bench", "--only=pipeline");
    assertEquals(2, bench.status);
    assertTrue(bench.err.startsWith("bench: not in this jar: the benchmark is java -Xmx2g -jar"
        + " target/losswatch-bench.jar") && bench.err.lines().count() == 1, bench.err);
  }

  @Test
  void bothSpellingsWorkAndTheLastOfARepeatedOptionCounts() {
    ServerConfig c = ServeOptions.parse(new String[] {"--port=1", "--max-runs", "7", "--port", "2",
        "--stall-after=2m", "--data-dir", "/tmp/lw", "--demo=none"}, null);
    assertEquals(2, c.port());
    assertEquals(7, c.maxRuns());
    assertEquals(120_000, c.stallAfterMs());
    assertEquals(Path.of("/tmp/lw"), c.dataDir());
    assertTrue(!c.demo());
    assertEquals("@file", ServeOptions.parse(new String[] {"--token", "@file"}, null).token(),
        "an argument starting with @ is itself, never a file of arguments");
  }

  @Test
  void noOptionsGiveTheServersDefaults() {
    assertEquals(ServerConfig.defaults(), ServeOptions.parse(new String[0], null));
  }

  @Test
  void theEnvironmentStandsInOnlyForWhatNoOptionSays() {
    assertEquals("from-env", ServeOptions.parse(new String[0], "from-env").token());
    assertEquals("given", ServeOptions.parse(new String[] {"--token", "given"}, "from-env").token());
    assertNull(ServeOptions.parse(new String[0], null).token());
  }

  @Test
  void aClusterOptionWithoutClusterIsRefusedEvenAtItsDefault() {
    SpecException e = org.junit.jupiter.api.Assertions.assertThrows(SpecException.class,
        () -> ServeOptions.parse(new String[] {"--cluster-port", "5701"}, null));
    assertEquals("--cluster-port: needs --cluster", e.getMessage());
  }

  /** A table row's first cell: each `--option LABEL` in it. */
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");

  /**
   * docs/operations.md's serve table names every serve option and no other; each option has a row of its own there,
   * or in docs/cluster.md's for the cluster's, with the declaration's value label and default: {@code `default`}
   * for a declared one, {@code off} for a flag, and words (not a value) where the default is none or derived.
   */
  @Test
  void theDocsOptionTablesAreTheDeclaration() throws IOException {
    Map<String, List<String>> operations = table(Path.of("docs/operations.md"), "| `serve` option | default | |");
    Map<String, List<String>> cluster = table(Path.of("docs/cluster.md"), "| option | default | |");
    List<String> wrong = new ArrayList<>();
    List<String> declared = serveOptions().stream().map(OptionSpec::longestName).toList();
    for (String named : operations.keySet()) if (!declared.contains(named)) wrong.add("operations.md names " + named);
    for (String named : cluster.keySet()) if (!declared.contains(named)) wrong.add("cluster.md names " + named);
    for (OptionSpec o : serveOptions()) {
      String name = o.longestName();
      if (!operations.containsKey(name)) wrong.add("operations.md's table lacks " + name);
      List<String> row = operations.get(name) != null && operations.get(name).size() == 2 ? operations.get(name)
          : cluster.get(name);
      if (row == null || row.size() != 2) {
        wrong.add(name + " has no row of its own in operations.md or cluster.md");
        continue;
      }
      String label = o.arity().max() == 0 ? name : name + " " + o.paramLabel();
      if (!row.get(0).equals(label)) wrong.add(name + ": the docs say `" + row.get(0) + "`, the option is `" + label + "`");
      String def = row.get(1);
      String expected = o.arity().max() == 0 ? "off" : o.defaultValue() == null ? null : "`" + o.defaultValue() + "`";
      if (expected != null ? !def.equals(expected) : def.startsWith("`")) {
        wrong.add(name + ": the docs' default is " + def + ", the option's " + (expected == null ? "none" : expected));
      }
    }
    assertEquals(List.of(), wrong);
  }

  private static List<OptionSpec> serveOptions() {
    return new CommandLine(new ServeCommand()).getCommandSpec().options().stream().filter(o -> !o.usageHelp()).toList();
  }

  /**
   * The table under {@code header}: for each option its first cell names, {@code [its cell, the default cell]} when
   * it is the row's only option, else {@code [its cell]}.
   */
  private static Map<String, List<String>> table(Path doc, String header) throws IOException {
    String text = Files.readString(doc);
    int at = text.indexOf(header);
    assertTrue(at >= 0, doc + " has no table headed " + header);
    Map<String, List<String>> rows = new LinkedHashMap<>();
    for (String line : text.substring(at).lines().skip(2).takeWhile(l -> l.startsWith("|")).toList()) {
      String[] cells = line.replace("\\|", "\u0000").split("\\|");
      String first = cells[1].trim().replace('\u0000', '|');
      String def = cells[2].trim().replace('\u0000', '|');
      List<String> named = new ArrayList<>();
      Matcher m = CODE.matcher(first);
      while (m.find()) named.add(m.group(1));
      for (String n : named) {
        String name = n.split(" ")[0];
        assertTrue(rows.put(name, named.size() == 1 ? List.of(n, def) : List.of(n)) == null, doc + " names " + name + " twice");
      }
    }
    return rows;
  }
}
