using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;
using Identity.Pki.Pem;
using Identity.Server;
using Identity.Server.Certify;
using Identity.Server.Hosting;
using Identity.Server.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Fuzz;

/// <summary>
/// A whole identity server in this process (the production host, a step-profile root and issuer written to disk,
/// a fixed clock), built once per fuzzing process: the targets call its <see cref="CertifyService"/> directly,
/// the same singleton gRPC dispatches to.
/// </summary>
internal sealed class FuzzServer
{
    public const string ControllerNamespace = "linkerd";
    public const string TrustDomain = "cluster.local";

    /// <summary>The fuzzing clock: inside the issuer's validity and the seed tokens' lifetime.</summary>
    public static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private FuzzServer(WebApplication app, X509Certificate2 issuer)
    {
        App = app;
        Issuer = issuer;
        Service = app.Services.GetRequiredService<CertifyService>();
    }

    public WebApplication App { get; }

    public X509Certificate2 Issuer { get; }

    public CertifyService Service { get; }

    public static string IdentityOf(string ns, string serviceAccount) =>
        $"{serviceAccount}.{ns}.serviceaccount.identity.{ControllerNamespace}.{TrustDomain}";

    /// <summary>Starts a server whose token validation <paramref name="addValidator"/> registers.</summary>
    public static FuzzServer Start(Action<IServiceCollection> addValidator)
    {
        var dir = Directory.CreateTempSubdirectory("identity-fuzz-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        var issuer = WritePki(dir);
        var builder = IdentityServerHost.CreateBuilder(o =>
        {
            o.Addr = "127.0.0.1:0";
            o.AdminAddr = "127.0.0.1:0";
            o.ControllerNamespace = ControllerNamespace;
            o.TrustDomain = TrustDomain;
            o.IssuerDirectory = Path.Combine(dir, "issuer");
            o.TrustAnchorsFile = Path.Combine(dir, "ca-bundle.crt");
            o.WatchFiles = false;
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        addValidator(builder.Services);
        var app = IdentityServerHost.Build(builder);
        app.StartAsync().GetAwaiter().GetResult();
        return new FuzzServer(app, issuer);
    }

    /// <summary>
    /// Writes a step-profile root (DIR/ca-bundle.crt) and issuer (DIR/issuer/crt.pem, key.pem, mode 0600), valid around
    /// both the fuzzing clock and today, and returns the issuer certificate.
    /// </summary>
    public static X509Certificate2 WritePki(string dir)
    {
        using var rootKey = PrivateKey.Generate(KeySpec.Default);
        using var issuerKey = PrivateKey.Generate(KeySpec.Default);
        using var root = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.RootCa, "root.linkerd.cluster.local", [], rootKey.ExportSubjectPublicKeyInfo(), Now.AddDays(-1), Now.AddYears(10)),
            rootKey, null);
        var issuer = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.IntermediateCa, $"identity.{ControllerNamespace}.{TrustDomain}", [], issuerKey.ExportSubjectPublicKeyInfo(), Now.AddDays(-1), Now.AddYears(1)),
            rootKey, root);
        Directory.CreateDirectory(Path.Combine(dir, "issuer"));
        File.WriteAllText(Path.Combine(dir, "issuer", "crt.pem"), PemCodec.Encode("CERTIFICATE", issuer.RawData));
        Pki.Files.SecureFile.WriteText(Path.Combine(dir, "issuer", "key.pem"), PrivateKeyPem.Write(issuerKey, null), overwrite: true);
        File.WriteAllText(Path.Combine(dir, "ca-bundle.crt"), PemCodec.Encode("CERTIFICATE", root.RawData));
        return issuer;
    }

    /// <summary>One Certify call: the response, or the status it was refused with.</summary>
    public (Protocol.CertifyResponse? Response, Status Status) Certify(string identity, byte[] token, byte[] csr)
    {
        var request = new Protocol.CertifyRequest
        {
            Identity = identity,
            Token = Google.Protobuf.ByteString.CopyFrom(token),
            CertificateSigningRequest = Google.Protobuf.ByteString.CopyFrom(csr),
        };
        try
        {
            return (Service.Certify(request, new FuzzCallContext()).GetAwaiter().GetResult(), Status.DefaultSuccess);
        }
        catch (RpcException e)
        {
            return (null, e.Status);
        }
    }

    /// <summary>Checks an answer of this server against <see cref="CertifyContract"/>.</summary>
    public void CheckAnswer((Protocol.CertifyResponse? Response, Status Status) answer, string requestedIdentity,
        string? authenticatedIdentity, byte[] csr) =>
        CertifyContract.Check(answer.Response, answer.Status, Issuer, requestedIdentity, authenticatedIdentity, csr);
}

/// <summary>
/// The contract of every Certify answer: refusals only with the codes Linkerd's order allows and never the answer
/// to a bug; a certificate only for the authenticated identity, with exactly that name, the CSR's own key, signed
/// by the issuer. Shared by the in-process targets and the mutation run against a live server.
/// </summary>
internal static class CertifyContract
{
    public static void Check(Protocol.CertifyResponse? response, Status status, X509Certificate2 issuer, string requestedIdentity,
        string? authenticatedIdentity, byte[] csr)
    {
        if (response is null)
        {
            Contract.That(status.Detail != CertifyService.UnexpectedErrorMessage, "Certify hit an unexpected exception");
            Contract.That(status.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.Internal,
                $"unexpected refusal code {status.StatusCode}: {status.Detail}");
            Contract.That(status.StatusCode != StatusCode.Internal
                || status.Detail.StartsWith("error validating token for ", StringComparison.Ordinal)
                || status.Detail.StartsWith("CSR must contain an ECDSA public key: ", StringComparison.Ordinal),
                $"Internal for something other than a token-review error or a non-ECDSA key: {status.Detail}");
            return;
        }

        Contract.That(authenticatedIdentity is not null && authenticatedIdentity == requestedIdentity,
            $"issued for {requestedIdentity}, but the token authenticates {authenticatedIdentity ?? "nobody"}");
        using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
        Contract.That(leaf.Subject == "CN=" + requestedIdentity, $"leaf subject {leaf.Subject}");
        var san = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Contract.That(san.EnumerateDnsNames().SequenceEqual([requestedIdentity]) && !san.EnumerateIPAddresses().Any(),
            "leaf SAN is not exactly the identity");
        var request = Pki.X509.CertificationRequest.Decode(csr).Value;
        Contract.That(request is not null && request.VerifySignature(), "issued for a CSR that does not verify");
        Contract.That(leaf.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(request!.PublicKey.Der.Span),
            "leaf key is not the CSR's key");
        using var issuerKey = issuer.GetECDsaPublicKey()!;
        var parts = Pki.Inspection.X509Parts.ParseCertificate(leaf.RawDataMemory);
        Contract.That(issuerKey.VerifyData(parts.TbsDer.Span, parts.Signature.Span, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
            "leaf is not signed by the issuer");
    }
}

/// <summary>The test validator's rules: "sa:NS:NAME" authenticates, "error:TEXT" is a review error, "down" an outage.</summary>
internal sealed class FuzzTokenValidator : ITokenValidator
{
    public static string? AuthenticatedIdentity(byte[] token)
    {
        var text = Encoding.UTF8.GetString(token);
        var parts = text.Split(':');
        return parts is ["sa", var ns, var name] ? FuzzServer.IdentityOf(ns, name) : null;
    }

    public ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetString(token.Span);
        return text.Split(':', 2) switch
        {
            ["sa", var rest] => ValueTask.FromResult(TokenReviewResult.Success($"system:serviceaccount:{rest}", null)),
            ["error", var rest] => ValueTask.FromResult(TokenReviewResult.Failed(rest)),
            ["down"] => throw new TokenValidationUnavailableException("the API server is down"),
            _ => ValueTask.FromResult(TokenReviewResult.Unauthenticated()),
        };
    }
}

/// <summary>The call context of an in-process call: no deadline, never cancelled.</summary>
internal sealed class FuzzCallContext : ServerCallContext
{
    protected override string MethodCore => "/io.linkerd.proxy.identity.Identity/Certify";

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:1";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore { get; } = [];

    protected override CancellationToken CancellationTokenCore => CancellationToken.None;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
