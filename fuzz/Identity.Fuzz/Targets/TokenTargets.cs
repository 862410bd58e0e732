using System.Text;
using Identity.Kubernetes;
using Identity.Server.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Fuzz.Targets;

/// <summary>
/// A ServiceAccount JWT through the JWKS validator (fixed key set). Contract: a verdict, or
/// <see cref="TokenValidationUnavailableException"/>; authenticated only for a token the key really signed, as the
/// ServiceAccount its claims name.
/// </summary>
internal sealed class JwtTarget : FuzzTarget
{
    private static readonly Lazy<ITokenValidator> Validator = new(() => FuzzValidators.Jwks(FuzzJwks.WriteJwks()));

    public override string Name => "jwt";

    public override string Description => "ServiceAccount JWTs through the JWKS validator";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var token = input.ToArray();
        var result = FuzzValidators.Review(Validator.Value, token);
        if (result is { Authenticated: true } authenticated)
        {
            var identity = FuzzJwks.SignedIdentity(token);
            Contract.That(identity is not null, "authenticated a token the key did not sign");
            var parts = authenticated.Username!.Split(':');
            Contract.That(parts is ["system", "serviceaccount", _, _] && FuzzServer.IdentityOf(parts[2], parts[3]) == identity,
                $"authenticated as {authenticated.Username}, but the token names {identity}");
        }
    }
}

/// <summary>
/// A JWKS document (as a file, the way <c>-jwks FILE</c> reads it), then a token signed by the fuzzing key.
/// Contract: the key set loads or the validator reports <see cref="TokenValidationUnavailableException"/>; the token
/// authenticates only when the document really holds the signing key.
/// </summary>
internal sealed class JwksTarget : FuzzTarget
{
    private static readonly Lazy<string> Token = new(() => FuzzJwks.Signer().Mint("ns", "sa", lifetime: TimeSpan.FromDays(36500)));
    private static readonly Lazy<string> File = new(() => Path.Combine(Directory.CreateTempSubdirectory("identity-fuzz-jwks-").FullName, "jwks.json"));

    public override string Name => "jwks";

    public override string Description => "JWKS documents (key set parsing), then a signed token against them";

    public override void Run(ReadOnlySpan<byte> input)
    {
        System.IO.File.WriteAllBytes(File.Value, input.ToArray());
        using var validator = FuzzValidators.JwksProvider(File.Value, out var provider);
        var result = FuzzValidators.Review(validator.Value, Encoding.ASCII.GetBytes(Token.Value));
        provider.Dispose();
        if (result is { Authenticated: true })
        {
            var own = FuzzJwks.Signer();
            Contract.That(Encoding.UTF8.GetString(input).Contains(own.KeyId, StringComparison.Ordinal) || !Encoding.UTF8.GetString(input).Contains("\"kid\"", StringComparison.Ordinal),
                "authenticated with a key set that does not hold the signing key");
        }
    }
}

/// <summary>The JWKS validator as <c>identity serve</c> builds it, and one review under the contract.</summary>
internal static class FuzzValidators
{
    public static ITokenValidator Jwks(string jwksFile)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(FuzzServer.Now));
        FuzzJwks.AddValidator(services, jwksFile);
        return services.BuildServiceProvider().GetRequiredService<ITokenValidator>();
    }

    public static Owned JwksProvider(string jwksFile, out JwksKeyProvider provider)
    {
        var options = new TokenValidationOptions { Mode = TokenValidationMode.Jwks, Jwks = jwksFile, TokenIssuer = FuzzJwks.TokenIssuer, CacheTtl = TimeSpan.Zero };
        var time = new FakeTimeProvider(FuzzServer.Now);
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        provider = new JwksKeyProvider(JwksSource.Parse(jwksFile, FuzzJwks.TokenIssuer), options, null, time, factory, NullLogger<JwksKeyProvider>.Instance);
        return new Owned(new JwksTokenValidator(options, provider, time, factory, NullLogger<JwksTokenValidator>.Instance), meters);
    }

    public static TokenReviewResult? Review(ITokenValidator validator, byte[] token)
    {
        try
        {
            var result = validator.ReviewAsync(token, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            Contract.That(result.Authenticated != !string.IsNullOrEmpty(result.Error) || !result.Authenticated, "authenticated with an error");
            Contract.That(!result.Authenticated || !string.IsNullOrEmpty(result.Username), "authenticated without a username");
            return result;
        }
        catch (TokenValidationUnavailableException)
        {
            return null;
        }
    }

    /// <summary>A validator and the services it was built from, disposed together.</summary>
    public sealed class Owned(ITokenValidator value, IDisposable services) : IDisposable
    {
        public ITokenValidator Value { get; } = value;

        public void Dispose() => services.Dispose();
    }
}
