using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Identity.Deploy.Tests.Monitoring;

/// <summary>
/// The shipped rules and dashboard against a real Prometheus on loopback that scrapes a real `identity serve`
/// (an issuer with 20 days left, an anchor with 50), and the metric names they use against that server's /metrics.
/// </summary>
public sealed partial class LivePrometheusTests(MonitoredServer server) : IClassFixture<MonitoredServer>
{
    /// <summary>What the server's state must fire: the issuer (20 d) and the anchor (50 d) warnings, nothing else.</summary>
    private static readonly string[] ExpectedFiring = ["IdentityIssuerExpiringSoon", "IdentityTrustAnchorExpiringSoon"];

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Every_metric_the_rules_and_the_dashboard_use_is_exported_by_the_server()
    {
        var ct = TestContext.Current.CancellationToken;
        await server.CertifyAsync(ct);
        await server.CertifyAsync(ct);
        var exported = ExportedNames(await server.ScrapeAsync(ct));

        var used = MonitoringFiles.UsedMetricNames;
        Assert.Contains("issuer_cert_ttl_seconds", used);
        Assert.All(used, name => Assert.True(exported.Contains(name), $"{name} is used by deploy/monitoring but /metrics does not export it; exported: {string.Join(", ", exported.Order())}"));
    }

    [Fact]
    public async Task Prometheus_fires_the_expiry_warnings_only_and_every_dashboard_panel_has_data()
    {
        Tools.RequireTool(Tools.Prometheus, "prometheus");
        var ct = TestContext.Current.CancellationToken;
        await using var prometheus = await PrometheusProcess.StartAsync(server.AdminPort, ct);

        // The shipped rule file, unchanged: its expiry alerts have no `for:`, so they fire on the first evaluation
        // after the first scrape; every other alert waits minutes before it fires, so within this test it could
        // only be pending, and a pending alert is an expression that matched. Asserting "inactive" for those checks
        // each expression against the real series of a healthy server, not only that time has not run out.
        var deadline = Stopwatch.StartNew();
        JsonArray rules;
        while (true)
        {
            // Proxies' traffic: counters and histograms move between scrapes, so rate() has something to see.
            await server.CertifyAsync(ct);
            rules = (await prometheus.GetAsync("/api/v1/rules", ct))["data"]!["groups"]!.AsArray();
            var evaluated = AllRules(rules).All(r => (string?)r["health"] == "ok");
            var firing = AlertStates(rules).Where(a => a.Value == "firing").Select(a => a.Key).Order().ToList();
            var hasRates = (await prometheus.QueryAsync("sum(rate(identity_certify_requests_total[1m])) > 0", ct)).Count > 0;
            if ((evaluated && hasRates && firing.SequenceEqual(ExpectedFiring.Order())) || deadline.Elapsed > Patience)
            {
                break;
            }

            await Task.Delay(500, ct);
        }

        Assert.All(AllRules(rules), r => Assert.True((string?)r["health"] == "ok", $"rule {r["name"]}: health {r["health"]}, {r["lastError"]}"));
        var states = AlertStates(rules);
        Assert.Equal(MonitoringFiles.Alerts.Select(a => (string)a["alert"]!).Order(), states.Keys.Order());
        Assert.All(states, s => Assert.True(s.Value == (ExpectedFiring.Contains(s.Key) ? "firing" : "inactive"),
            $"{s.Key} is {s.Value}; server log: {server.Output}; Prometheus log: {prometheus.Log}"));
        var alerts = (await prometheus.GetAsync("/api/v1/alerts", ct))["data"]!["alerts"]!.AsArray();
        var anchor = Assert.Single(alerts, a => (string)a!["labels"]!["alertname"]! == "IdentityTrustAnchorExpiringSoon")!;
        Assert.Equal("CN=root.linkerd.cluster.local", (string?)anchor["labels"]!["subject"]);
        var issuerDays = double.Parse((string)Assert.Single(alerts, a => (string)a!["labels"]!["alertname"]! == "IdentityIssuerExpiringSoon")!["value"]!,
            CultureInfo.InvariantCulture) / 86400;
        Assert.InRange(issuerDays, (server.IssuerNotAfter - DateTimeOffset.UtcNow).TotalDays - 0.01, 20.01);

        // The dashboard's namespace variable, then every panel query with Grafana's variables filled in.
        var variable = await prometheus.GetAsync("/api/v1/label/namespace/values?match[]=issuer_cert_ttl_seconds", ct);
        Assert.Equal(["linkerd"], variable["data"]!.AsArray().Select(v => (string)v!));
        foreach (var (title, expressions) in MonitoringFiles.DashboardPanels)
        {
            foreach (var expression in expressions)
            {
                var query = MonitoringFiles.Substitute(expression, "linkerd");
                Assert.True((await prometheus.QueryAsync(query, ct)).Count > 0, $"dashboard panel \"{title}\" returned no data for {query}");
            }
        }
    }

    private static IEnumerable<JsonObject> AllRules(JsonArray groups) =>
        groups.SelectMany(g => g!["rules"]!.AsArray()).Select(r => r!.AsObject());

    private static Dictionary<string, string> AlertStates(JsonArray groups) =>
        AllRules(groups).Where(r => (string?)r["type"] == "alerting").ToDictionary(r => (string)r["name"]!, r => (string)r["state"]!);

    /// <summary>The metric family names of a Prometheus text exposition (histograms by their family name).</summary>
    private static HashSet<string> ExportedNames(string exposition) =>
        TypeLine().Matches(exposition).Select(m => m.Groups[1].Value).ToHashSet();

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}

/// <summary>A real Prometheus on a free loopback port with its own data folder, loading the shipped rule file.</summary>
internal sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly System.Text.StringBuilder _log = new();
    private readonly HttpClient _http;

    private PrometheusProcess(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<PrometheusProcess> StartAsync(int adminPort, CancellationToken cancellationToken)
    {
        var dir = Directory.CreateTempSubdirectory("identity-prometheus-").FullName;
        var port = LoopbackPort.Free();
        var config = Path.Combine(dir, "prometheus.yml");
        // The job is named as the ServiceMonitor's Service, and the namespace label is what the operator would add.
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {MonitoringFiles.RulesFile}
            scrape_configs:
              - job_name: linkerd-identity-admin
                static_configs:
                  - targets: ["127.0.0.1:{adminPort}"]
                    labels:
                      namespace: linkerd
            """);
        var start = new ProcessStartInfo(Tools.Prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start prometheus");
        var prometheus = new PrometheusProcess(process, dir, port);
        process.OutputDataReceived += (_, e) => prometheus.Append(e.Data);
        process.ErrorDataReceived += (_, e) => prometheus.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await prometheus.WaitReadyAsync(cancellationToken);
        return prometheus;
    }

    public async Task<JsonObject> GetAsync(string path, CancellationToken cancellationToken)
    {
        var body = JsonNode.Parse(await _http.GetStringAsync(path, cancellationToken))!.AsObject();
        Assert.True((string?)body["status"] == "success", $"{path}: {body.ToJsonString()}");
        return body;
    }

    /// <summary>An instant query; the result vector (empty when the query matched nothing).</summary>
    public async Task<JsonArray> QueryAsync(string query, CancellationToken cancellationToken) =>
        (await GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(query), cancellationToken))["data"]!["result"]!.AsArray();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            Assert.False(_process.HasExited, $"prometheus exited {(_process.HasExited ? _process.ExitCode : 0)}: {Log}");
            try
            {
                if ((await _http.GetAsync("/-/ready", bounded.Token)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, bounded.Token);
        }
    }
}
