using System.Security.Cryptography;
using System.Text;
using Identity.Cli.Demo;
using Identity.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Server.Tests;

/// <summary>
/// The Identity.Kubernetes validators registered the way <c>identity serve</c> registers them
/// (src/Identity.Cli/Serve/ServeServices.cs: <see cref="ServiceCollectionExtensions.AddIdentityTokenValidation"/> with the
/// serve flags' defaults), so the server tests exercise the production wiring, cache included.
/// </summary>
internal static class RealValidators
{
    public const string TokenIssuer = "https://kubernetes.default.svc.cluster.local";

    /// <summary><c>identity serve -token-validation jwks -jwks FILE -token-issuer ISS</c> (cache TTL default 5m).</summary>
    public static void AddJwks(IServiceCollection services, string jwksFile) => services.AddIdentityTokenValidation(o =>
    {
        o.Mode = TokenValidationMode.Jwks;
        o.Kubeconfig = null;
        o.Qps = 100;
        o.Burst = 200;
        o.CacheTtl = TimeSpan.FromMinutes(5);
        o.Jwks = jwksFile;
        o.TokenIssuer = TokenIssuer;
    });

    /// <summary><c>identity serve -kubeconfig FILE</c> (TokenReview, the default mode; cache TTL default 5m).</summary>
    public static void AddTokenReview(IServiceCollection services, string kubeconfig) => services.AddIdentityTokenValidation(o =>
    {
        o.Mode = TokenValidationMode.Kubernetes;
        o.Kubeconfig = kubeconfig;
        o.Qps = 100;
        o.Burst = 200;
        o.CacheTtl = TimeSpan.FromMinutes(5);
        o.Jwks = null;
        o.TokenIssuer = null;
    });
}

/// <summary>A cluster's ServiceAccount token signer at a fixed instant, its JWKS written to a file for the server.</summary>
internal sealed class TokenSigner : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly DateTimeOffset _now;

    public TokenSigner(DateTimeOffset now)
    {
        _now = now;
        Directory = System.IO.Directory.CreateTempSubdirectory("identity-jwks-").FullName;
        Issuer = At(now);
        JwksFile = Path.Combine(Directory, "jwks.json");
        Issuer.WriteJwks(JwksFile);
    }

    public string Directory { get; }

    public string JwksFile { get; }

    public ServiceAccountTokenIssuer Issuer { get; }

    /// <summary>A token as the bad-request tables need it; <paramref name="kind"/> names the defect.</summary>
    public string Token(string kind, string ns, string serviceAccount) => kind switch
    {
        "valid" => Issuer.Mint(ns, serviceAccount),
        // Same issuer name, a key the cluster never published.
        "other-key" => MintWithOtherKey(ns, serviceAccount),
        // The claims of this ServiceAccount's token under the signature of another ServiceAccount's token.
        "tampered" => Splice(Issuer.Mint(ns, serviceAccount), Issuer.Mint(ns, "default")),
        "expired" => At(_now.AddHours(-2)).Mint(ns, serviceAccount, lifetime: TimeSpan.FromHours(1)),
        "not-yet-valid" => At(_now.AddHours(1)).Mint(ns, serviceAccount),
        "wrong-audience" => Issuer.Mint(ns, serviceAccount, audiences: ["https://kubernetes.default.svc"]),
        "wrong-issuer" => new ServiceAccountTokenIssuer("https://oidc.other-cluster.example", _key, new FakeTimeProvider(_now)).Mint(ns, serviceAccount),
        "no-kubernetes-claims" => Issuer.MintClaims(
            new Dictionary<string, object> { ["sub"] = $"system:serviceaccount:{ns}:{serviceAccount}", ["aud"] = "identity.l5d.io" },
            _now, _now.AddHours(1)),
        "alg-none" => Unsigned(ns, serviceAccount),
        "garbage" => "this-is-not-a-jwt",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public void Dispose()
    {
        Issuer.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string MintWithOtherKey(string ns, string serviceAccount)
    {
        using var other = new ServiceAccountTokenIssuer(RealValidators.TokenIssuer, ECDsa.Create(ECCurve.NamedCurves.nistP256), new FakeTimeProvider(_now));
        return other.Mint(ns, serviceAccount);
    }

    // Issuers over the shared key are not disposed: disposing one would dispose the key the others still sign with.
    private ServiceAccountTokenIssuer At(DateTimeOffset instant) => new(RealValidators.TokenIssuer, _key, new FakeTimeProvider(instant));

    private static string Splice(string claimsFrom, string signatureFrom)
    {
        var claims = claimsFrom.Split('.');
        var signature = signatureFrom.Split('.');
        return $"{claims[0]}.{claims[1]}.{signature[2]}";
    }

    private string Unsigned(string ns, string serviceAccount)
    {
        static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var payload = new System.Text.Json.Nodes.JsonObject
        {
            ["iss"] = RealValidators.TokenIssuer,
            ["aud"] = new System.Text.Json.Nodes.JsonArray("identity.l5d.io"),
            ["sub"] = $"system:serviceaccount:{ns}:{serviceAccount}",
            ["exp"] = _now.AddHours(1).ToUnixTimeSeconds(),
            ["nbf"] = _now.ToUnixTimeSeconds(),
            ["kubernetes.io"] = new System.Text.Json.Nodes.JsonObject
            {
                ["namespace"] = ns,
                ["serviceaccount"] = new System.Text.Json.Nodes.JsonObject { ["name"] = serviceAccount, ["uid"] = "0b1c" },
            },
        }.ToJsonString();
        return $"{B64("""{"alg":"none","typ":"JWT"}""")}.{B64(payload)}.";
    }
}

/// <summary>The Kubernetes API double (tests/Shared/Kubernetes) with a kubeconfig for it on disk.</summary>
internal sealed class KubernetesApi : IAsyncDisposable
{
    private KubernetesApi(FakeKubernetesApi api, string directory)
    {
        Api = api;
        Directory = directory;
        Kubeconfig = api.WriteKubeconfig(directory);
    }

    public FakeKubernetesApi Api { get; }

    public string Directory { get; }

    public string Kubeconfig { get; }

    public static async Task<KubernetesApi> StartAsync() =>
        new(await FakeKubernetesApi.StartAsync(), System.IO.Directory.CreateTempSubdirectory("identity-kubeapi-").FullName);

    /// <summary>A projected-token look-alike: a JWT whose <c>exp</c> lets the review cache keep the API server's answer
    /// (the TokenReview path never checks the signature itself; the API server does).</summary>
    public static string ProjectedToken(string ns, string serviceAccount, DateTimeOffset expires)
    {
        var header = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"alg\":\"RS256\",\"kid\":\"cluster-key\"}");
        var payload = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(
            $"{{\"sub\":\"system:serviceaccount:{ns}:{serviceAccount}\",\"exp\":{expires.ToUnixTimeSeconds()}}}");
        return $"{header}.{payload}.c2lnbmF0dXJl";
    }

    /// <summary>Completes when the next TokenReview reaches the API double.</summary>
    public Task NextReview(CancellationToken cancellationToken)
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Api.ReviewArrived += () => arrived.TrySetResult();
        return arrived.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
