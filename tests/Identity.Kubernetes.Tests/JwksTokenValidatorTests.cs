using System.Security.Cryptography;
using System.Text;
using Identity.Cli.Demo;
using Identity.Server.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Kubernetes.Tests;

public sealed class JwksTokenValidatorTests : IDisposable
{
    private const string Issuer = "https://kubernetes.default.svc.cluster.local";
    private static readonly DateTimeOffset Start = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly ServiceAccountTokenIssuer _issuer;
    private readonly string _dir = Directory.CreateTempSubdirectory("jwks-tests").FullName;
    private readonly string _jwksFile;

    public JwksTokenValidatorTests()
    {
        _issuer = new ServiceAccountTokenIssuer(Issuer, timeProvider: _time);
        _jwksFile = Path.Combine(_dir, "jwks.json");
        _issuer.WriteJwks(_jwksFile);
    }

    public void Dispose()
    {
        _issuer.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private TokenValidationOptions Options(string? jwks = null) => new()
    {
        Mode = TokenValidationMode.Jwks,
        TokenIssuer = Issuer,
        Jwks = jwks ?? _jwksFile,
    };

    private JwksTokenValidator Create(TokenValidationOptions? options = null, HttpClient? http = null)
    {
        options ??= Options();
        var keys = new JwksKeyProvider(JwksSource.Parse(options.Jwks, options.TokenIssuer), options, http, _time,
            TestSupport.MeterFactory(), NullLogger<JwksKeyProvider>.Instance);
        return new JwksTokenValidator(options, keys, _time, TestSupport.MeterFactory(), NullLogger<JwksTokenValidator>.Instance);
    }

    private static Task<TokenReviewResult> Review(JwksTokenValidator validator, string token) =>
        validator.ReviewAsync(Encoding.UTF8.GetBytes(token), TestContext.Current.CancellationToken).AsTask();

    private static Dictionary<string, object> Claims(string ns = "emojivoto", string sa = "web", string? sub = null) => new()
    {
        ["sub"] = sub ?? $"system:serviceaccount:{ns}:{sa}",
        ["aud"] = new List<string> { "identity.l5d.io" },
        ["kubernetes.io"] = new Dictionary<string, object>
        {
            ["namespace"] = ns,
            ["serviceaccount"] = new Dictionary<string, object> { ["name"] = sa, ["uid"] = "3d2b6f0e-0000-4000-8000-000000000001" },
        },
    };

    [Fact]
    public async Task Valid_token_authenticates_as_its_service_account_until_exp()
    {
        var validator = Create();
        var token = _issuer.Mint("emojivoto", "web", lifetime: TimeSpan.FromMinutes(10));

        var result = await Review(validator, token);

        Assert.Equal(TokenReviewResult.Success("system:serviceaccount:emojivoto:web", Start.AddMinutes(10)), result);
    }

    [Fact]
    public async Task Token_signed_by_another_key_with_the_same_kid_has_an_invalid_signature()
    {
        var validator = Create();
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Claims = Claims(),
            IssuedAt = Start.UtcDateTime,
            NotBefore = Start.UtcDateTime,
            Expires = Start.AddMinutes(10).UtcDateTime,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(otherKey) { KeyId = _issuer.KeyId }, SecurityAlgorithms.EcdsaSha256),
        });

        Assert.Equal(TokenReviewResult.Failed("token signature is invalid"), await Review(validator, forged));
    }

    [Fact]
    public async Task Tampered_payload_has_an_invalid_signature()
    {
        var validator = Create();
        var parts = _issuer.Mint("emojivoto", "web").Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace("emojivoto:web", "emojivoto:adm", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";

        Assert.Equal(TokenReviewResult.Failed("token signature is invalid"), await Review(validator, tampered));
    }

    [Fact]
    public async Task Expired_token_is_rejected_after_the_skew()
    {
        var validator = Create();
        var token = _issuer.Mint("emojivoto", "web", lifetime: TimeSpan.FromMinutes(10));

        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(29));
        Assert.True((await Review(validator, token)).Authenticated);

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TokenReviewResult.Failed("token has expired"), await Review(validator, token));
    }

    [Fact]
    public async Task Not_yet_valid_token_is_rejected()
    {
        var validator = Create();
        var token = _issuer.MintClaims(Claims(), Start.AddMinutes(5), Start.AddMinutes(15));

        Assert.Equal(TokenReviewResult.Failed("token is not yet valid"), await Review(validator, token));
    }

    [Fact]
    public async Task Wrong_audience_is_rejected()
    {
        var validator = Create();
        var token = _issuer.Mint("emojivoto", "web", audiences: [Issuer]);

        Assert.Equal(TokenReviewResult.Failed("token audience is not identity.l5d.io"), await Review(validator, token));
    }

    [Fact]
    public async Task Configured_fallback_audience_is_accepted_like_linkerds_default_audience_retry()
    {
        var options = Options();
        options.FallbackAudiences.Add(Issuer);
        var validator = Create(options);

        Assert.True((await Review(validator, _issuer.Mint("emojivoto", "web", audiences: [Issuer]))).Authenticated);
        Assert.Equal(
            TokenReviewResult.Failed($"token audience is not one of identity.l5d.io, {Issuer}"),
            await Review(validator, _issuer.Mint("emojivoto", "web", audiences: ["vault"])));
    }

    [Fact]
    public async Task Wrong_issuer_is_rejected()
    {
        var validator = Create();
        using var key = ECDsa.Create();
        key.ImportParameters(((ECDsaSecurityKey)_issuer.SigningKey).ECDsa.ExportParameters(true));
        using var impostor = new ServiceAccountTokenIssuer("https://evil.example", key, _time);

        Assert.Equal(TokenReviewResult.Failed($"token issuer is not {Issuer}"), await Review(validator, impostor.Mint("emojivoto", "web")));
    }

    [Theory]
    [InlineData("all", "token has no kubernetes.io claims")]
    [InlineData("namespace", "token has no kubernetes.io namespace claim")]
    [InlineData("serviceaccount", "token has no kubernetes.io serviceaccount claim")]
    [InlineData("name", "token has no kubernetes.io serviceaccount name claim")]
    [InlineData("uid", "token has no kubernetes.io serviceaccount uid claim")]
    public async Task Missing_kubernetes_claims_are_rejected(string missing, string error)
    {
        var validator = Create();
        var claims = Claims();
        var kubernetes = (Dictionary<string, object>)claims["kubernetes.io"];
        var serviceAccount = (Dictionary<string, object>)kubernetes["serviceaccount"];
        _ = missing switch
        {
            "all" => claims.Remove("kubernetes.io"),
            "namespace" => kubernetes.Remove("namespace"),
            "serviceaccount" => kubernetes.Remove("serviceaccount"),
            "name" => serviceAccount.Remove("name"),
            _ => serviceAccount.Remove("uid"),
        };

        var token = _issuer.MintClaims(claims, Start, Start.AddMinutes(10));

        Assert.Equal(TokenReviewResult.Failed(error), await Review(validator, token));
    }

    [Theory]
    [InlineData("system:serviceaccount:emojivoto:admin")]
    [InlineData("system:serviceaccount:kube-system:web")]
    [InlineData("system:node:emojivoto:web")]
    public async Task Subject_inconsistent_with_kubernetes_claims_is_rejected(string subject)
    {
        var validator = Create();
        var token = _issuer.MintClaims(Claims(sub: subject), Start, Start.AddMinutes(10));

        Assert.Equal(
            TokenReviewResult.Failed("token subject is not system:serviceaccount:emojivoto:web, as its kubernetes.io claims require"),
            await Review(validator, token));
    }

    [Fact]
    public async Task Unsigned_token_is_rejected()
    {
        var validator = Create();
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"kid\":\"" + _issuer.KeyId + "\"}");
        var payload = new JsonWebToken(_issuer.Mint("emojivoto", "web")).EncodedPayload;

        var result = await Review(validator, $"{header}.{payload}.");

        Assert.Equal(TokenReviewResult.Failed("token signing algorithm is not RS256 or ES256"), result);
    }

    [Fact]
    public async Task Hmac_token_keyed_with_the_public_key_is_rejected()
    {
        var validator = Create();
        var secret = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(_issuer.CreateJwksJson())) { KeyId = _issuer.KeyId };
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Claims = Claims(),
            IssuedAt = Start.UtcDateTime,
            NotBefore = Start.UtcDateTime,
            Expires = Start.AddMinutes(10).UtcDateTime,
            SigningCredentials = new SigningCredentials(secret, SecurityAlgorithms.HmacSha256),
        });

        var result = await Review(validator, token);

        Assert.Equal(TokenReviewResult.Failed("token signing algorithm is not RS256 or ES256"), result);
    }

    // Signs exactly these header and payload bytes with the cluster's key, so a test controls every character.
    private string SignRaw(string headerJson, string payloadJson)
    {
        var input = Base64UrlEncoder.Encode(headerJson) + "." + Base64UrlEncoder.Encode(payloadJson);
        var signature = ((ECDsaSecurityKey)_issuer.SigningKey).ECDsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256);
        return input + "." + Base64UrlEncoder.Encode(signature);
    }

    private string Header(string extra = "") => "{\"alg\":\"ES256\",\"kid\":\"" + _issuer.KeyId + "\"" + extra + "}";

    private static string Payload(string sub = "system:serviceaccount:emojivoto:web", string aud = "[\"identity.l5d.io\"]", string extra = "") =>
        "{\"iss\":\"" + Issuer + "\",\"sub\":\"" + sub + "\",\"aud\":" + aud + ",\"exp\":" + Start.AddMinutes(10).ToUnixTimeSeconds()
        + ",\"nbf\":" + Start.ToUnixTimeSeconds() + extra
        + ",\"kubernetes.io\":{\"namespace\":\"emojivoto\",\"serviceaccount\":{\"name\":\"web\",\"uid\":\"3d2b6f0e\"}}}";

    [Fact]
    public async Task Hand_signed_token_with_a_single_string_audience_and_no_kid_authenticates()
    {
        var validator = Create();

        Assert.Equal(TokenReviewResult.Success("system:serviceaccount:emojivoto:web", Start.AddMinutes(10)),
            await Review(validator, SignRaw(Header(), Payload(aud: "\"identity.l5d.io\""))));
        Assert.Equal(TokenReviewResult.Success("system:serviceaccount:emojivoto:web", Start.AddMinutes(10)),
            await Review(validator, SignRaw("{\"alg\":\"ES256\"}", Payload())));
    }

    [Theory]
    [InlineData(",\"sub\":\"system:serviceaccount:emojivoto:admin\"")]
    [InlineData(",\"aud\":\"other\"")]
    [InlineData(",\"exp\":4102444800")]
    public async Task A_claim_the_validator_decides_on_given_twice_makes_the_token_malformed(string duplicate)
    {
        Assert.Equal(TokenReviewResult.Failed("token is malformed"), await Review(Create(), SignRaw(Header(), Payload(extra: duplicate))));
    }

    [Fact]
    public async Task Duplicate_header_parameters_or_critical_ones_are_refused()
    {
        var validator = Create();

        Assert.Equal(TokenReviewResult.Failed("token is malformed"),
            await Review(validator, SignRaw(Header(",\"alg\":\"none\""), Payload())));
        Assert.Equal(TokenReviewResult.Failed("token has critical header parameters"),
            await Review(validator, SignRaw(Header(",\"crit\":[\"exp\"],\"exp\":1"), Payload())));
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"a string\"")]
    [InlineData("{\"iss\":1}x")]
    public async Task A_payload_that_is_not_one_json_object_is_malformed(string payload)
    {
        Assert.Equal(TokenReviewResult.Failed("token is malformed"), await Review(Create(), SignRaw(Header(), payload)));
    }

    [Fact]
    public async Task Not_before_after_expiry_is_an_invalid_lifetime()
    {
        var payload = Payload().Replace($"\"nbf\":{Start.ToUnixTimeSeconds()}", $"\"nbf\":{Start.AddMinutes(11).ToUnixTimeSeconds()}", StringComparison.Ordinal);

        Assert.Equal(TokenReviewResult.Failed("token lifetime is invalid"), await Review(Create(), SignRaw(Header(), payload)));
    }

    [Fact]
    public async Task A_token_longer_than_the_limit_is_malformed_before_it_is_decoded()
    {
        var token = SignRaw(Header(), Payload(extra: ",\"pad\":\"" + new string('x', JwksTokenValidator.MaxTokenBytes) + "\""));

        Assert.Equal(TokenReviewResult.Failed("token is malformed"), await Review(Create(), token));
    }

    [Fact]
    public async Task An_es256_signature_of_the_wrong_length_is_invalid_not_an_error()
    {
        var parts = SignRaw(Header(), Payload()).Split('.');
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);

        Assert.Equal(TokenReviewResult.Failed("token signature is invalid"),
            await Review(Create(), $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(signature[..63])}"));
        Assert.Equal(TokenReviewResult.Failed("token signature is invalid"),
            await Review(Create(), $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode([.. signature, 0])}"));
    }

    [Fact]
    public async Task Malformed_token_is_rejected()
    {
        Assert.Equal(TokenReviewResult.Failed("token is malformed"), await Review(Create(), "not.a-jwt"));
    }

    [Fact]
    public async Task Unknown_kid_triggers_a_bounded_refresh()
    {
        var validator = Create();
        Assert.True((await Review(validator, _issuer.Mint("emojivoto", "web"))).Authenticated);
        using var rotated = new ServiceAccountTokenIssuer(Issuer, timeProvider: _time);
        rotated.WriteJwks(_jwksFile);
        var token = rotated.Mint("emojivoto", "web");

        // Just loaded: an unknown kid may not force another fetch yet (forged kids must not hammer the issuer).
        Assert.Equal(TokenReviewResult.Failed("token signing key is unknown"), await Review(validator, token));

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.True((await Review(validator, token)).Authenticated);
    }

    [Fact]
    public async Task Keys_are_refreshed_periodically()
    {
        var validator = Create();
        var old = _issuer.Mint("emojivoto", "web", lifetime: TimeSpan.FromHours(1));
        Assert.True((await Review(validator, old)).Authenticated);
        using var rotated = new ServiceAccountTokenIssuer(Issuer, timeProvider: _time);
        rotated.WriteJwks(_jwksFile);

        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.True((await Review(validator, old)).Authenticated);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(TokenReviewResult.Failed("token signing key is unknown"), await Review(validator, old));
    }

    [Fact]
    public async Task Missing_jwks_file_is_unavailable_not_a_token_error()
    {
        var validator = Create(Options(Path.Combine(_dir, "absent.json")));

        var e = await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => Review(validator, _issuer.Mint("a", "b")));
        Assert.StartsWith("could not load JWKS from ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initial_load_failure_is_retried_after_a_short_delay_not_on_every_token()
    {
        var missing = Path.Combine(_dir, "later.json");
        var validator = Create(Options(missing));
        var token = _issuer.Mint("emojivoto", "web");
        await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => Review(validator, token));
        _issuer.WriteJwks(missing);

        await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => Review(validator, token));
        _time.Advance(JwksKeyProvider.InitialLoadRetryDelay);

        Assert.True((await Review(validator, token)).Authenticated);
    }

    [Fact]
    public async Task Oidc_discovery_over_https_finds_the_jwks_and_sends_the_bearer_token()
    {
        await using var api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        var authorizations = new List<string>();
        api.Routes[ServiceAccountTokenIssuer.DiscoveryPath] = async context =>
        {
            authorizations.Add(context.Request.Headers.Authorization.ToString());
            await context.Response.WriteAsync(_issuer.CreateDiscoveryJson(new Uri(api.BaseUri, ServiceAccountTokenIssuer.JwksPath)));
        };
        api.Routes[ServiceAccountTokenIssuer.JwksPath] = async context =>
        {
            authorizations.Add(context.Request.Headers.Authorization.ToString());
            await context.Response.WriteAsync(_issuer.CreateJwksJson());
        };
        var caFile = Path.Combine(_dir, "ca.crt");
        await File.WriteAllTextAsync(caFile, api.CaCertificate.ExportCertificatePem(), TestContext.Current.CancellationToken);
        var tokenFile = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(tokenFile, "discovery-bearer\n", TestContext.Current.CancellationToken);
        var options = Options(new Uri(api.BaseUri, ServiceAccountTokenIssuer.DiscoveryPath).ToString());
        options.JwksCaFile = caFile;
        options.JwksBearerTokenFile = tokenFile;
        var validator = Create(options);

        var result = await Review(validator, _issuer.Mint("emojivoto", "web"));

        Assert.Equal("system:serviceaccount:emojivoto:web", result.Username);
        Assert.Equal(["Bearer discovery-bearer", "Bearer discovery-bearer"], authorizations);
    }

    [Fact]
    public async Task Untrusted_https_jwks_server_is_unavailable()
    {
        await using var api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        api.Routes[ServiceAccountTokenIssuer.JwksPath] = context => context.Response.WriteAsync(_issuer.CreateJwksJson());
        var validator = Create(Options(new Uri(api.BaseUri, ServiceAccountTokenIssuer.JwksPath).ToString()));

        await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => Review(validator, _issuer.Mint("a", "b")));
    }

    [Fact]
    public async Task Jwks_http_error_is_unavailable_with_the_status()
    {
        await using var api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c!.Issuer == api.CaCertificate.Subject });
        var validator = Create(Options(new Uri(api.BaseUri, "/missing/jwks").ToString()), http);

        var e = await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => Review(validator, _issuer.Mint("a", "b")));
        Assert.Contains("HTTP 404", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_jwks_url_is_unavailable()
    {
        var validator = Create(Options("https://127.0.0.1:1/openid/v1/jwks"));

        await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => Review(validator, _issuer.Mint("a", "b")));
    }

    [Fact]
    public async Task Failed_refresh_keeps_serving_the_previous_keys_and_retries_at_a_bounded_rate()
    {
        var meters = TestSupport.MeterFactory();
        using var fetches = new MetricRecorder(meters, KubernetesMetrics.MeterName, KubernetesMetrics.JwksRefreshes);
        var options = Options();
        using var keys = new JwksKeyProvider(JwksSource.Parse(options.Jwks, options.TokenIssuer), options, null, _time, meters, NullLogger<JwksKeyProvider>.Instance);
        var validator = new JwksTokenValidator(options, keys, _time, meters, NullLogger<JwksTokenValidator>.Instance);
        var token = _issuer.Mint("emojivoto", "web", lifetime: TimeSpan.FromHours(1));
        Assert.True((await Review(validator, token)).Authenticated);
        File.Delete(_jwksFile);

        _time.Advance(TimeSpan.FromMinutes(6));
        Assert.True((await Review(validator, token)).Authenticated);
        Assert.True((await Review(validator, token)).Authenticated);
        Assert.Equal(2, fetches.Total);

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.True((await Review(validator, token)).Authenticated);
        Assert.Equal(3, fetches.Total);
    }

    [Fact]
    public async Task Rs256_tokens_from_an_rsa_jwks_are_accepted()
    {
        using var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "rsa-1" };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = "rsa-1" });
        await File.WriteAllTextAsync(_jwksFile,
            $$"""{"keys":[{"kty":"RSA","kid":"rsa-1","use":"sig","alg":"RS256","n":"{{jwk.N}}","e":"{{jwk.E}}"}]}""",
            TestContext.Current.CancellationToken);
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Claims = Claims(),
            IssuedAt = Start.UtcDateTime,
            NotBefore = Start.UtcDateTime,
            Expires = Start.AddMinutes(10).UtcDateTime,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });

        Assert.True((await Review(Create(), token)).Authenticated);
    }
}
