using System.CommandLine;
using Identity.Server;
using Identity.Server.Hosting;
using Identity.Pki.Time;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Identity.Cli.Serve;

/// <summary>
/// <c>identity serve</c>: the Certify server, accepting linkerd-identity's controller flags unchanged (single or
/// double dash, <c>-flag value</c> or <c>-flag=value</c>, which System.CommandLine splits itself) so the stock Helm
/// chart's arguments work.
/// </summary>
internal static class ServeCommand
{
    private static readonly Option<string> Addr = Flag("addr", ":8080", "Address to serve gRPC on ([host]:port)");
    private static readonly Option<string> AdminAddr = Flag("admin-addr", ":9990", "Address of the admin server (/ping, /ready, /live, /metrics)");
    private static readonly Option<string> ControllerNamespace = Flag("controller-namespace", "", "Namespace of the control plane (a DNS-1123 label)");
    private static readonly Option<string> TrustDomain = Flag("identity-trust-domain", "", "Trust domain of identities (e.g. cluster.local)");
    private static readonly Option<string> Scheme = Flag("identity-scheme", IdentityServerOptions.LinkerdScheme,
        "Issuer file scheme: linkerd.io/tls (crt.pem/key.pem) or any other value, e.g. kubernetes.io/tls (tls.crt/tls.key)");
    private static readonly Option<string> Lifetime = Flag("identity-issuance-lifetime", "24h", "Lifetime of issued certificates (Go duration)");
    private static readonly Option<string> Skew = Flag("identity-clock-skew-allowance", "10s", "Clock skew allowance added to both ends of the validity (Go duration)");
    private static readonly Option<string> Issuer = Flag("issuer", "/var/run/linkerd/identity/issuer", "Directory holding the issuer certificate and key");
    private static readonly Option<string> Anchors = Flag("identity-trust-anchors-file", "/var/run/linkerd/identity/trust-roots/ca-bundle.crt", "PEM bundle of trust anchors");
    private static readonly Option<string> ReloadInterval = Flag("issuer-reload-interval", "1m", "How often the issuer and anchors are re-read without a file event (Go duration)");
    private static readonly Option<int> MaxConcurrentCertify = new("--max-concurrent-certify", "-max-concurrent-certify")
    {
        Description = "Most Certify calls in progress at once; 0 sizes it to the machine (16 per core)",
        DefaultValueFactory = _ => 0,
    };

    private static readonly Option<int> CertifyQueue = new("--certify-queue", "-certify-queue")
    {
        Description = "Most Certify calls waiting for a slot; beyond it, and for calls that would wait past their deadline, RESOURCE_EXHAUSTED at once; 0 for the default (4096)",
        DefaultValueFactory = _ => 0,
    };

    private static readonly Option<int> MaxConcurrentStreams = new("--max-concurrent-streams", "-max-concurrent-streams")
    {
        Description = "Most concurrent HTTP/2 streams per gRPC connection",
        DefaultValueFactory = _ => 100,
    };

    private static readonly Option<int> MaxConnections = new("--max-connections", "-max-connections")
    {
        Description = "Most connections served at once on the gRPC port (more wait for a slot, up to four per slot for 10 s); 0 means no limit",
        DefaultValueFactory = _ => 512,
    };

    private static readonly Option<bool> Tls = new("--tls", "-tls") { Description = "Serve gRPC over TLS 1.3 with a certificate issued to the server itself" };
    private static readonly Option<float> Qps = new("--kube-apiclient-qps", "-kube-apiclient-qps") { Description = "Kubernetes API client QPS", DefaultValueFactory = _ => 100 };
    private static readonly Option<int> Burst = new("--kube-apiclient-burst", "-kube-apiclient-burst") { Description = "Kubernetes API client burst", DefaultValueFactory = _ => 200 };
    private static readonly Option<string> Kubeconfig = Flag("kubeconfig", "", "Path to a kubeconfig; empty means in-cluster");
    private static readonly Option<string> LogLevelFlag = Flag("log-level", "info", "Log level: panic, fatal, error, warn, info, debug, trace");
    private static readonly Option<string> LogFormat = Flag("log-format", "plain", "Log format: plain or json");
    private static readonly Option<bool> EnablePprof = new("--enable-pprof", "-enable-pprof") { Description = "Accepted for chart compatibility; ignored" };
    private static readonly Option<string> TraceCollector = Flag("trace-collector", "", "Accepted for chart compatibility; ignored");

    private static readonly Option<string> TokenValidation = Flag("token-validation", "kubernetes",
        "How tokens are validated: kubernetes (TokenReview, like linkerd-identity) or jwks (ServiceAccount JWTs against a JWKS)");
    private static readonly Option<string> Jwks = Flag("jwks", "", "With -token-validation jwks: a JWKS file, a JWKS URL, or the cluster's OIDC issuer URL");
    private static readonly Option<string> TokenIssuer = Flag("token-issuer", "", "With -token-validation jwks: the required token issuer (iss claim)");
    private static readonly Option<string> TokenCacheTtl = Flag("token-review-cache-ttl", "5m",
        "Longest time a positive token review is reused (never beyond the token's expiry; Go duration)");

    private static readonly Option[] All =
    [
        Addr, AdminAddr, ControllerNamespace, TrustDomain, Scheme, Lifetime, Skew, Issuer, Anchors, ReloadInterval, Tls,
        Qps, Burst, Kubeconfig, LogLevelFlag, LogFormat, EnablePprof, TraceCollector,
        TokenValidation, Jwks, TokenIssuer, TokenCacheTtl,
        MaxConcurrentCertify, CertifyQueue, MaxConcurrentStreams, MaxConnections,
    ];

    /// <summary>
    /// Builds the command. <paramref name="registerServices"/> registers the token validator (and optionally an
    /// event sink); without one the command fails at start with a clear message.
    /// </summary>
    public static Command Create(Action<IServiceCollection, ServeSettings>? registerServices = null)
    {
        var command = new Command("serve", "Run the Linkerd-compatible identity (Certify) server.");
        foreach (var option in All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = TryGetSettings(parseResult, Console.Error);
            return settings is null ? 1 : await RunAsync(settings, registerServices, Console.Error, cancellationToken);
        });
        return command;
    }

    /// <summary>Converts parsed flags to settings, writing one line per invalid flag to <paramref name="stderr"/>.</summary>
    public static ServeSettings? TryGetSettings(ParseResult parseResult, TextWriter stderr)
    {
        var errors = new List<string>();
        TimeSpan Duration(Option<string> option)
        {
            var text = parseResult.GetValue(option) ?? "";
            if (GoDuration.TryParse(text, out var value))
            {
                return value;
            }

            errors.Add($"-{option.Name.TrimStart('-')}: invalid duration '{text}' (use Go syntax such as 24h0m0s, 10s or 300ms)");
            return TimeSpan.Zero;
        }

        var server = new IdentityServerOptions
        {
            Addr = parseResult.GetValue(Addr) ?? "",
            AdminAddr = parseResult.GetValue(AdminAddr) ?? "",
            ControllerNamespace = parseResult.GetValue(ControllerNamespace) ?? "",
            TrustDomain = parseResult.GetValue(TrustDomain) ?? "",
            IdentityScheme = parseResult.GetValue(Scheme) ?? "",
            IssuanceLifetime = Duration(Lifetime),
            ClockSkewAllowance = Duration(Skew),
            IssuerDirectory = parseResult.GetValue(Issuer) ?? "",
            TrustAnchorsFile = parseResult.GetValue(Anchors) ?? "",
            ReloadInterval = Duration(ReloadInterval),
            Tls = parseResult.GetValue(Tls),
            MaxConcurrentCertify = parseResult.GetValue(MaxConcurrentCertify),
            CertifyQueue = parseResult.GetValue(CertifyQueue),
            MaxConcurrentStreams = parseResult.GetValue(MaxConcurrentStreams),
            MaxConnections = parseResult.GetValue(MaxConnections),
        };

        var levelText = parseResult.GetValue(LogLevelFlag) ?? "";
        LogLevel level = LogLevel.Information;
        switch (levelText)
        {
            case "panic" or "fatal": level = LogLevel.Critical; break;
            case "error": level = LogLevel.Error; break;
            case "warn" or "warning": level = LogLevel.Warning; break;
            case "info": level = LogLevel.Information; break;
            case "debug": level = LogLevel.Debug; break;
            case "trace": level = LogLevel.Trace; break;
            default: errors.Add($"-log-level: '{levelText}' is not one of panic, fatal, error, warn, info, debug, trace"); break;
        }

        var format = parseResult.GetValue(LogFormat) ?? "";
        if (format is not ("plain" or "json"))
        {
            errors.Add($"-log-format: '{format}' is not one of plain, json");
        }

        var qps = parseResult.GetValue(Qps);
        var burst = parseResult.GetValue(Burst);
        if (!(qps > 0))
        {
            errors.Add($"-kube-apiclient-qps: must be positive, got {qps}");
        }

        if (burst <= 0)
        {
            errors.Add($"-kube-apiclient-burst: must be positive, got {burst}");
        }

        var tokens = new TokenSettings(
            parseResult.GetValue(TokenValidation) ?? "",
            parseResult.GetValue(Jwks) ?? "",
            parseResult.GetValue(TokenIssuer) ?? "",
            Duration(TokenCacheTtl));
        if (tokens.Mode is not ("kubernetes" or "jwks"))
        {
            errors.Add($"-token-validation: '{tokens.Mode}' is not one of kubernetes, jwks");
        }
        else if (tokens.Mode == "jwks" && (tokens.Jwks.Length == 0 || tokens.TokenIssuer.Length == 0))
        {
            errors.Add("-token-validation jwks requires -jwks (a JWKS file or URL) and -token-issuer");
        }

        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                stderr.WriteLine($"identity serve: {error}");
            }

            return null;
        }

        return new ServeSettings(server, new KubeApiClientSettings(parseResult.GetValue(Kubeconfig) ?? "", qps, burst), level, format == "json")
        {
            Tokens = tokens,
        };
    }

    private static void Copy(IdentityServerOptions from, IdentityServerOptions to)
    {
        to.Addr = from.Addr;
        to.AdminAddr = from.AdminAddr;
        to.ControllerNamespace = from.ControllerNamespace;
        to.TrustDomain = from.TrustDomain;
        to.IdentityScheme = from.IdentityScheme;
        to.IssuanceLifetime = from.IssuanceLifetime;
        to.ClockSkewAllowance = from.ClockSkewAllowance;
        to.IssuerDirectory = from.IssuerDirectory;
        to.TrustAnchorsFile = from.TrustAnchorsFile;
        to.ReloadInterval = from.ReloadInterval;
        to.Tls = from.Tls;
        to.MaxConcurrentCertify = from.MaxConcurrentCertify;
        to.CertifyQueue = from.CertifyQueue;
        to.MaxConcurrentStreams = from.MaxConcurrentStreams;
        to.MaxConnections = from.MaxConnections;
    }

    /// <summary>Builds and runs the server until <paramref name="cancellationToken"/> or SIGTERM; 1 on a start failure.</summary>
    public static async Task<int> RunAsync(ServeSettings settings, Action<IServiceCollection, ServeSettings>? registerServices,
        TextWriter stderr, CancellationToken cancellationToken)
    {
        var builder = IdentityServerHost.CreateBuilder(o => Copy(settings.Server, o));
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        if (settings.LogLevel >= LogLevel.Information)
        {
            // ASP.NET Core logs two lines per request at info; at Linkerd's default level the log should carry the
            // audit trail and issuer events, not one line per Certify call and probe. -log-level debug shows them.
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }

        if (settings.JsonLogs)
        {
            builder.Logging.AddJsonConsole();
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        }

        registerServices?.Invoke(builder.Services, settings);
        try
        {
            await using var app = IdentityServerHost.Build(builder);
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        }
        catch (InvalidOperationException e)
        {
            await stderr.WriteLineAsync($"identity serve: {e.Message}");
            return 1;
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures)
            {
                await stderr.WriteLineAsync($"identity serve: {failure}");
            }

            return 1;
        }
        catch (IOException e)
        {
            // Typically the port is already in use.
            await stderr.WriteLineAsync($"identity serve: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
    }

    private static Option<string> Flag(string name, string defaultValue, string description) =>
        new($"--{name}", $"-{name}")
        {
            Description = $"{description} (default \"{defaultValue}\")",
            DefaultValueFactory = _ => defaultValue,
        };
}
