using System.Globalization;

namespace Identity.Bench;

/// <summary>How tokens are judged by the bench's server (and therefore what the client must send).</summary>
internal enum TokenMode
{
    /// <summary>Real ServiceAccount JWTs checked by JwksTokenValidator behind CachingTokenValidator (the default).</summary>
    Jwks,

    /// <summary>The token bytes are the username and are not checked at all (for comparison only).</summary>
    AcceptAll,
}

/// <summary>Command line of the bench; see <see cref="Usage"/>.</summary>
internal sealed record BenchSettings(
    bool SelfHost,
    bool ServerOnly,
    string? Target,
    TokenMode Tokens,
    bool Cold,
    int ColdPool,
    int Workloads,
    int Concurrency,
    int Connections,
    TimeSpan Duration,
    TimeSpan Warmup,
    bool AuditLog,
    string? TokenKey,
    string? TokenIssuer,
    int? ServerPid,
    bool Breakdown)
{
    public const string DefaultTokenIssuer = "https://kubernetes.default.svc.cluster.local";

    public const string Usage = """
        usage:
          Identity.Bench --self-host [--accept-all] [--cold [--cold-pool N]] [--audit-log] [--breakdown] [load options]
          Identity.Bench --server-only [--accept-all]          (prints the endpoint and the client command; Ctrl+C or kill -TERM stops)
          Identity.Bench --target http://host:port [--accept-all | --token-key FILE [--token-issuer URL]] [--server-pid PID] [--cold] [load options]
        load options: [--workloads 256] [--concurrency 32] [--connections 4] [--duration 10] [--warmup 10] [--cold-pool 40000]
        """;

    public static BenchSettings? Parse(string[] args)
    {
        bool selfHost = false, serverOnly = false, acceptAll = false, cold = false, audit = false, breakdown = false;
        string? target = null, tokenKey = null, tokenIssuer = null;
        int workloads = 256, concurrency = 32, connections = 4, coldPool = 40_000;
        int? serverPid = null;
        double seconds = 10, warmup = 10;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : "";
            bool Int(out int value) => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
            bool Seconds(out double value) => double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
            switch (args[i])
            {
                case "--self-host": selfHost = true; break;
                case "--server-only": serverOnly = true; break;
                case "--accept-all": acceptAll = true; break;
                case "--cold": cold = true; break;
                case "--audit-log": audit = true; break;
                case "--breakdown": breakdown = true; break;
                case "--target": target = Next(); break;
                case "--token-key": tokenKey = Next(); break;
                case "--token-issuer": tokenIssuer = Next(); break;
                case "--server-pid": if (!Int(out var pid)) { return null; } serverPid = pid; break;
                case "--cold-pool": if (!Int(out coldPool)) { return null; } break;
                case "--workloads": if (!Int(out workloads)) { return null; } break;
                case "--concurrency": if (!Int(out concurrency)) { return null; } break;
                case "--connections": if (!Int(out connections)) { return null; } break;
                case "--duration": if (!Seconds(out seconds)) { return null; } break;
                case "--warmup": if (!Seconds(out warmup)) { return null; } break;
                default: return null;
            }
        }

        var modes = (selfHost ? 1 : 0) + (serverOnly ? 1 : 0) + (target is not null ? 1 : 0);
        var tokens = acceptAll ? TokenMode.AcceptAll : TokenMode.Jwks;
        // A remote JWKS-validating server only accepts tokens signed with its key: the client must be given it.
        var targetNeedsKey = target is not null && tokens == TokenMode.Jwks && tokenKey is null;
        return modes != 1 || targetNeedsKey || workloads < 1 || concurrency < 1 || connections < 1 || coldPool < 1
            || seconds <= 0 || warmup < 0
            ? null
            : new BenchSettings(selfHost, serverOnly, target, tokens, cold, coldPool, workloads, concurrency, connections,
                TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(warmup), audit, tokenKey, tokenIssuer ?? DefaultTokenIssuer, serverPid, breakdown);
    }
}
