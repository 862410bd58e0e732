using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Identity.Deploy.Tests.Monitoring;

/// <summary>deploy/monitoring's files, parsed: the alerts of the plain rule file and the dashboard's queries.</summary>
internal static partial class MonitoringFiles
{
    public static string Directory => Path.Combine(Tools.DeployDir, "monitoring");

    public static string RulesFile => Path.Combine(Directory, "identity-rules.yaml");

    public static string RulesTestFile => Path.Combine(Directory, "identity-rules.test.yaml");

    public static string DashboardFile => Path.Combine(Directory, "identity-dashboard.json");

    public static string ReadmeFile => Path.Combine(Tools.RepoRoot, "README.md");

    public static JsonObject Rules => Yaml.ParseSingle(File.ReadAllText(RulesFile));

    /// <summary>Every alerting rule of the plain rule file.</summary>
    public static IReadOnlyList<JsonObject> Alerts =>
        Rules["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).Select(r => r!.AsObject())
            .Where(r => r["alert"] is not null).ToList();

    public static JsonObject Dashboard => JsonNode.Parse(File.ReadAllText(DashboardFile))!.AsObject();

    /// <summary>Every panel of the dashboard with queries: (title, expressions).</summary>
    public static IReadOnlyList<(string Title, IReadOnlyList<string> Expressions)> DashboardPanels =>
        Dashboard["panels"]!.AsArray().Select(p => p!.AsObject())
            .Where(p => p["targets"] is JsonArray)
            .Select(p => ((string)p["title"]!, (IReadOnlyList<string>)p["targets"]!.AsArray().Select(t => (string)t!["expr"]!).ToList()))
            .ToList();

    /// <summary>The dashboard's panel queries with its variables replaced as Grafana would for one namespace.</summary>
    public static string Substitute(string expression, string namespaceValue) => expression
        .Replace("$__rate_interval", "1m", StringComparison.Ordinal)
        .Replace("$namespace", namespaceValue, StringComparison.Ordinal);

    /// <summary>
    /// The server's metric names a PromQL expression uses: identity_*, issuer_* and trust_anchor_*, with the
    /// exposition suffixes of a histogram's series (_bucket, _sum, _count) taken off.
    /// </summary>
    public static IEnumerable<string> MetricNames(string expression) =>
        MetricName().Matches(expression).Select(m => HistogramSuffix().Replace(m.Value, ""));

    /// <summary>Every server metric name any rule or panel uses.</summary>
    public static IReadOnlySet<string> UsedMetricNames =>
        Alerts.Select(a => (string)a["expr"]!)
            .Concat(DashboardPanels.SelectMany(p => p.Expressions))
            .Concat([(string)Dashboard["templating"]!["list"]!.AsArray().Single(v => (string)v!["name"]! == "namespace")!["definition"]!])
            .SelectMany(MetricNames).ToHashSet();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:\-.])(identity|issuer|trust_anchor)_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();
}
