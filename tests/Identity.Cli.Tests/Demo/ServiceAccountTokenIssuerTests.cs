using System.Net;
using System.Text;
using Identity.Cli.Demo;
using Identity.Kubernetes;
using Identity.Server.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Cli.Tests.Demo;

public sealed class ServiceAccountTokenIssuerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sa-issuer").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Minted_token_has_the_projected_service_account_shape()
    {
        using var issuer = new ServiceAccountTokenIssuer("https://cluster-west.example");

        var jwt = new JsonWebToken(issuer.Mint("emojivoto", "web", lifetime: TimeSpan.FromMinutes(30)));

        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal(issuer.KeyId, jwt.Kid);
        Assert.Equal("https://cluster-west.example", jwt.Issuer);
        Assert.Equal("system:serviceaccount:emojivoto:web", jwt.Subject);
        Assert.Equal(["identity.l5d.io"], jwt.Audiences);
        Assert.Equal(TimeSpan.FromMinutes(30), jwt.ValidTo - jwt.ValidFrom);
        var payload = System.Text.Json.JsonDocument.Parse(Base64UrlEncoder.Decode(jwt.EncodedPayload)).RootElement;
        Assert.Equal("emojivoto", payload.GetProperty("kubernetes.io").GetProperty("namespace").GetString());
        Assert.Equal("web", payload.GetProperty("kubernetes.io").GetProperty("serviceaccount").GetProperty("name").GetString());
        Assert.True(Guid.TryParse(payload.GetProperty("kubernetes.io").GetProperty("serviceaccount").GetProperty("uid").GetString(), out _));
    }

    [Fact]
    public void Jwks_document_round_trips_through_identitymodel()
    {
        using var issuer = new ServiceAccountTokenIssuer("https://cluster-west.example");

        var key = Assert.Single(new JsonWebKeySet(issuer.CreateJwksJson()).Keys);

        Assert.Equal(issuer.KeyId, key.Kid);
        Assert.Equal("EC", key.Kty);
        Assert.Equal("P-256", key.Crv);
        Assert.False(key.HasPrivateKey);
    }

    [Fact]
    public void Load_or_create_writes_a_private_key_file_and_reloads_the_same_key()
    {
        var keyPath = Path.Combine(_dir, "sa.key");

        string kid;
        using (var created = ServiceAccountTokenIssuer.LoadOrCreate("https://a.example", keyPath))
        {
            kid = created.KeyId;
        }

        using var loaded = ServiceAccountTokenIssuer.LoadOrCreate("https://a.example", keyPath);
        Assert.Equal(kid, loaded.KeyId);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(keyPath), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        }
    }

    [Fact]
    public void Non_p256_keys_are_refused()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);

        var e = Assert.Throws<ArgumentException>(() => new ServiceAccountTokenIssuer("https://a.example", key));
        Assert.StartsWith("ServiceAccount token issuer keys must be ECDSA P-256 (ES256)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_demo_clusters_each_verify_only_their_own_tokens_through_served_discovery()
    {
        using var east = new ServiceAccountTokenIssuer("https://east.example");
        using var west = new ServiceAccountTokenIssuer("https://west.example");
        await using var eastServer = await ServeAsync(east);

        // The validator `identity serve -token-validation jwks` registers, pointed at the served discovery document.
        await using var services = new ServiceCollection()
            .AddIdentityTokenValidation(o =>
            {
                o.Mode = TokenValidationMode.Jwks;
                o.TokenIssuer = east.Issuer;
                o.Jwks = eastServer.Urls.Single() + ServiceAccountTokenIssuer.DiscoveryPath;
            })
            .BuildServiceProvider();
        var validator = services.GetRequiredService<ITokenValidator>();

        var own = await validator.ReviewAsync(Encoding.UTF8.GetBytes(east.Mint("emojivoto", "web")), TestContext.Current.CancellationToken);
        var foreign = await validator.ReviewAsync(Encoding.UTF8.GetBytes(west.Mint("emojivoto", "web")), TestContext.Current.CancellationToken);

        Assert.Equal("system:serviceaccount:emojivoto:web", own.Username);
        Assert.Equal("token signing key is unknown", foreign.Error);
    }

    private static async Task<WebApplication> ServeAsync(ServiceAccountTokenIssuer issuer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        issuer.MapEndpoints(app);
        await app.StartAsync();
        return app;
    }
}
