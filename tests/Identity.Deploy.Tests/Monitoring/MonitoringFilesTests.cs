using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Identity.Deploy.Tests.Monitoring;

/// <summary>
/// deploy/monitoring against the real promtool, the `identity` command tree, the README and the metric-name
/// constants of the server.
/// </summary>
public sealed partial class MonitoringFilesTests
{
    [Fact]
    public async Task Promtool_checks_the_plain_rule_file()
    {
        Tools.RequireTool(Tools.Promtool, "prometheus");
        var (exit, stdout, stderr) = await Tools.RunAsync(Tools.Promtool, ["check", "rules", MonitoringFiles.RulesFile], TestContext.Current.CancellationToken);
        Assert.True(exit == 0, $"promtool check rules exited {exit}:\n{stdout}{stderr}");
        Assert.Contains($"SUCCESS: {MonitoringFiles.Rules["groups"]!.AsArray().Sum(g => g!["rules"]!.AsArray().Count)} rules found", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promtool_unit_tests_pass()
    {
        Tools.RequireTool(Tools.Promtool, "prometheus");
        var (exit, stdout, stderr) = await Tools.RunAsync(Tools.Promtool, ["test", "rules", MonitoringFiles.RulesTestFile], TestContext.Current.CancellationToken);
        Assert.True(exit == 0, $"promtool test rules exited {exit}:\n{stdout}{stderr}");
        Assert.Contains("SUCCESS", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_alert_has_a_promtool_case_that_fires_and_one_that_must_not()
    {
        var tests = Yaml.ParseSingle(File.ReadAllText(MonitoringFiles.RulesTestFile));
        Assert.Equal(["identity-rules.yaml"], tests["rule_files"]!.AsArray().Select(f => (string)f!));
        var cases = tests["tests"]!.AsArray().SelectMany(t => t!["alert_rule_test"]!.AsArray())
            .Select(c => (Alert: (string)c!["alertname"]!, Fires: c["exp_alerts"] is JsonArray { Count: > 0 })).ToList();
        var alerts = MonitoringFiles.Alerts.Select(a => (string)a["alert"]!).ToList();

        Assert.NotEmpty(alerts);
        Assert.Empty(cases.Select(c => c.Alert).Except(alerts));
        Assert.All(alerts, alert =>
        {
            Assert.True(cases.Contains((alert, true)), $"{alert}: no promtool case expects it to fire");
            Assert.True(cases.Contains((alert, false)), $"{alert}: no promtool case expects it not to fire");
        });
    }

    [Fact]
    public void The_PrometheusRule_holds_exactly_the_groups_of_the_plain_rule_file()
    {
        var rule = Yaml.ParseSingle(File.ReadAllText(Path.Combine(MonitoringFiles.Directory, "prometheusrule.yaml")));
        Assert.Equal(("monitoring.coreos.com/v1", "PrometheusRule"), ((string)rule["apiVersion"]!, (string)rule["kind"]!));
        var spec = rule["spec"]!.AsObject();
        Assert.Equal(["groups"], spec.Select(p => p.Key));
        Assert.True(JsonNode.DeepEquals(MonitoringFiles.Rules["groups"], spec["groups"]),
            "deploy/monitoring/prometheusrule.yaml's spec.groups differ from identity-rules.yaml's groups: edit both");
    }

    [Fact]
    public void Every_alert_has_a_severity_summary_description_and_a_runbook_section_in_the_README()
    {
        var readme = File.ReadAllText(MonitoringFiles.ReadmeFile);
        Assert.All(MonitoringFiles.Alerts, rule =>
        {
            var alert = (string)rule["alert"]!;
            Assert.True((string?)rule["labels"]?["severity"] is "warning" or "critical", $"{alert}: severity must be warning or critical");
            var annotations = rule["annotations"]!.AsObject();
            Assert.False(string.IsNullOrWhiteSpace((string?)annotations["summary"]), $"{alert}: no summary");
            Assert.False(string.IsNullOrWhiteSpace((string?)annotations["description"]), $"{alert}: no description");
            Assert.Equal("README.md#" + alert.ToLowerInvariant(), (string?)annotations["runbook"]);
            Assert.True(readme.Contains($"\n#### {alert}\n", StringComparison.Ordinal), $"README.md has no runbook heading '#### {alert}'");
        });
    }

    [Fact]
    public void Every_alert_description_names_an_identity_command_that_exists_with_its_flags()
    {
        var root = Identity.Cli.Commands.CreateRoot();
        Assert.All(MonitoringFiles.Alerts, rule =>
        {
            var alert = (string)rule["alert"]!;
            var spans = CodeSpan().Matches((string)rule["annotations"]!["description"]!).Select(m => m.Groups[1].Value)
                .Where(s => s.StartsWith("identity ", StringComparison.Ordinal)).ToList();
            Assert.True(spans.Count > 0, $"{alert}: the description names no `identity ...` command");
            foreach (var span in spans)
            {
                // The command line up to a pipe: `identity issuer rotate --ca ca.crt | kubectl apply -f -`.
                var words = span.Split('|')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
                Command command = root;
                var path = "identity";
                foreach (var word in words.TakeWhile(w => !w.StartsWith('-')))
                {
                    if (command.Subcommands.FirstOrDefault(c => c.Name == word) is not { } sub)
                    {
                        break;
                    }

                    command = sub;
                    path += " " + word;
                }

                Assert.True(command != root, $"{alert}: `{span}` names no subcommand of `identity --help`");
                Assert.True(command.Subcommands.Count == 0, $"{alert}: `{path}` is a group, not a command ({string.Join(", ", command.Subcommands.Select(c => c.Name))})");
                foreach (var flag in words.Where(w => w.StartsWith('-')))
                {
                    Assert.True(command.Options.Any(o => o.Name == flag || o.Aliases.Contains(flag)), $"{alert}: `{path}` has no option {flag}");
                }
            }
        });
    }

    [Fact]
    public void The_dashboard_has_a_datasource_variable_and_the_rows_an_operator_needs()
    {
        var dashboard = MonitoringFiles.Dashboard;
        var variables = dashboard["templating"]!["list"]!.AsArray().Select(v => v!.AsObject()).ToList();
        var datasource = Assert.Single(variables, v => (string)v["type"]! == "datasource");
        Assert.Equal(("datasource", "prometheus"), ((string)datasource["name"]!, (string)datasource["query"]!));
        var panels = dashboard["panels"]!.AsArray().Select(p => p!.AsObject()).ToList();
        Assert.Equal(["Expiry", "Issuance", "Token review", "Reloads", "Overload"],
            panels.Where(p => (string)p["type"]! == "row").Select(p => (string)p["title"]!));
        Assert.All(panels.Where(p => (string)p["type"]! != "row"), panel =>
        {
            Assert.Equal("${datasource}", (string?)panel["datasource"]?["uid"]);
            Assert.All(panel["targets"]!.AsArray(), t => Assert.Equal("${datasource}", (string?)t!["datasource"]?["uid"]));
        });
        Assert.Equal(panels.Count, panels.Select(p => (int)p["id"]!).Distinct().Count());
    }

    [Fact]
    public void The_README_metrics_table_lists_every_instrument_the_server_defines()
    {
        // Instrument names, as the constants name them: not the meters, tags or tag values beside them.
        var constants = typeof(Identity.Server.Metrics.IdentityMetrics).GetFields().Concat(typeof(Identity.Kubernetes.KubernetesMetrics).GetFields())
            .Where(f => f.IsLiteral && f.FieldType == typeof(string) && f.Name != "MeterName" && !f.Name.EndsWith("Tag", StringComparison.Ordinal)
                && !f.Name.StartsWith("Refused", StringComparison.Ordinal))
            .Select(f => ((string)f.GetRawConstantValue()!).Replace('.', '_')).ToList();
        Assert.Contains("issuer_cert_ttl_seconds", constants);
        var table = MetricsTable().Matches(File.ReadAllText(MonitoringFiles.ReadmeFile)).Select(m => m.Groups[1].Value).ToList();

        Assert.All(constants, name => Assert.True(table.Any(row => row == name || row.StartsWith(name + "_", StringComparison.Ordinal)),
            $"README's metrics reference has no row for {name}"));
        Assert.All(table, row => Assert.True(constants.Any(name => row == name || row.StartsWith(name + "_", StringComparison.Ordinal)),
            $"README's metrics reference lists {row}, which no constant names"));
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    // A row of the README's metrics reference: | `name` | type | ...
    [GeneratedRegex(@"^\| `((?:identity|issuer|trust_anchor)_[a-z0-9_]+)` \|", RegexOptions.Multiline)]
    private static partial Regex MetricsTable();
}
