using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Identity.Client.Verification;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Identity.Client.Tls;

/// <summary>The outcome of verifying one TLS peer.</summary>
public sealed class PeerVerificationEventArgs(object connection, CertificateVerificationResult result) : EventArgs
{
    /// <summary>The connection (the <see cref="SslStream"/> that called the validation callback).</summary>
    public object Connection { get; } = connection;

    /// <summary>The verification result: the precise failure, or the verified peer identity.</summary>
    public CertificateVerificationResult Result { get; } = result;
}

/// <summary>
/// Mesh TLS as the proxy does it: TLS 1.3 only, no session resumption, the workload's current leaf + intermediates
/// presented, peers verified against the trust anchors only (never the system store). Clients check the expected peer
/// identity among the server leaf's DNS SANs; servers optionally require a client certificate and expose the client's
/// identity (its first DNS SAN). Options are built per connection from the current snapshot, so renewed credentials
/// are used by the next handshake without a restart.
/// </summary>
public sealed class MeshTls
{
    private static readonly ConditionalWeakTable<object, CertificateVerificationResult> Results = new();

    private readonly IWorkloadCredentialsProvider _credentials;
    private readonly ChainVerifier _verifier;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the factories.</summary>
    /// <param name="credentials">Where the current workload credentials come from (usually an <see cref="IdentityClient"/>).</param>
    /// <param name="trustAnchors">The only roots peers may chain to.</param>
    /// <param name="timeProvider">Clock for chain validity checks; defaults to the system clock.</param>
    /// <param name="logger">Logger for refused peers.</param>
    public MeshTls(IWorkloadCredentialsProvider credentials, IEnumerable<X509Certificate2> trustAnchors, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(trustAnchors);
        _credentials = credentials;
        _verifier = new ChainVerifier(trustAnchors);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised for every peer verification (success or failure), on the handshake's thread.</summary>
    public event EventHandler<PeerVerificationEventArgs>? PeerVerified;

    /// <summary>The verification result recorded for a connection (an <see cref="SslStream"/>), or null if none ran.</summary>
    public static CertificateVerificationResult? GetPeerVerification(object connection) =>
        Results.TryGetValue(connection, out var result) ? result : null;

    /// <summary>
    /// Client options for one connection to a peer that must present <paramref name="expectedPeerIdentity"/>
    /// (also sent as SNI). Presents the current credentials when there are any. Build a new one per connection.
    /// </summary>
    public SslClientAuthenticationOptions CreateClientOptions(string expectedPeerIdentity)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedPeerIdentity);
        return new SslClientAuthenticationOptions
        {
            TargetHost = expectedPeerIdentity,
            EnabledSslProtocols = SslProtocols.Tls13,
            AllowTlsResume = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ClientCertificateContext = _credentials.Current?.CertificateContext,
            RemoteCertificateValidationCallback = (sender, certificate, chain, _) =>
                Validate(sender, certificate, chain, ChainVerifier.ServerAuthOid, expectedPeerIdentity, requireCertificate: true, server: false),
        };
    }

    /// <summary>
    /// Server options for one connection, presenting the current credentials. A client certificate is always requested;
    /// when <paramref name="requireClientCertificate"/> is false a client without one is accepted as unauthenticated.
    /// </summary>
    /// <exception cref="InvalidOperationException">There are no credentials yet.</exception>
    public SslServerAuthenticationOptions CreateServerOptions(bool requireClientCertificate)
    {
        var current = _credentials.Current ?? throw new InvalidOperationException("no workload certificate yet: cannot serve TLS before the first Certify succeeds");
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = current.CertificateContext,
            EnabledSslProtocols = SslProtocols.Tls13,
            AllowTlsResume = false,
            ClientCertificateRequired = true,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (sender, certificate, chain, _) =>
                Validate(sender, certificate, chain, ChainVerifier.ClientAuthOid, expectedIdentity: null, requireClientCertificate, server: true),
        };
    }

    /// <summary>
    /// Per-connection server options, shaped for Kestrel's <c>TlsHandshakeCallbackOptions.OnConnection</c>
    /// (<c>OnConnection = ctx => meshTls.SelectServerOptionsAsync(true, ctx.CancellationToken)</c>).
    /// </summary>
    public ValueTask<SslServerAuthenticationOptions> SelectServerOptionsAsync(bool requireClientCertificate, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(CreateServerOptions(requireClientCertificate));
    }

    /// <summary>A callback for <see cref="SslStream.AuthenticateAsServerAsync(ServerOptionsSelectionCallback, object?, CancellationToken)"/>.</summary>
    public ServerOptionsSelectionCallback CreateServerOptionsSelectionCallback(bool requireClientCertificate) =>
        (_, _, _, ct) => SelectServerOptionsAsync(requireClientCertificate, ct);

    /// <summary>
    /// Authenticates as client and returns the verified peer. On refusal throws <see cref="AuthenticationException"/>
    /// whose message is the precise reason.
    /// </summary>
    public Task<CertificateVerificationResult> AuthenticateAsClientAsync(SslStream stream, string expectedPeerIdentity, CancellationToken cancellationToken = default) =>
        AuthenticateAsClientCoreAsync(stream, CreateClientOptions(expectedPeerIdentity), cancellationToken);

    internal static async Task<CertificateVerificationResult> AuthenticateAsClientCoreAsync(SslStream stream, SslClientAuthenticationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            await stream.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (AuthenticationException ex) when (GetPeerVerification(stream) is { Succeeded: false } failed)
        {
            throw new AuthenticationException(failed.Message, ex);
        }

        return GetPeerVerification(stream) ?? throw new AuthenticationException("the peer certificate was not verified");
    }

    /// <summary>
    /// Authenticates as server and returns the verified client (its <see cref="CertificateVerificationResult.Identity"/>
    /// is null for an unauthenticated client when certificates are optional). On refusal throws
    /// <see cref="AuthenticationException"/> whose message is the precise reason.
    /// </summary>
    public async Task<CertificateVerificationResult> AuthenticateAsServerAsync(SslStream stream, bool requireClientCertificate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            await stream.AuthenticateAsServerAsync(CreateServerOptions(requireClientCertificate), cancellationToken).ConfigureAwait(false);
        }
        catch (AuthenticationException ex) when (GetPeerVerification(stream) is { Succeeded: false } failed)
        {
            throw new AuthenticationException(failed.Message, ex);
        }

        return GetPeerVerification(stream) ?? new CertificateVerificationResult(VerificationFailure.None, "no client certificate (unauthenticated)", null);
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, string usage, string? expectedIdentity, bool requireCertificate, bool server)
    {
        CertificateVerificationResult result;
        if (certificate is null)
        {
            result = !requireCertificate
                ? new CertificateVerificationResult(VerificationFailure.None, "no client certificate (unauthenticated)", null)
                : server
                    ? CertificateVerificationResult.Fail(VerificationFailure.ClientCertificateRequired, "client certificate required")
                    : CertificateVerificationResult.Fail(VerificationFailure.NoCertificate, "peer sent no certificate");
        }
        else
        {
            var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            // SslStream puts the certificates the peer sent after its leaf into the chain's ExtraStore;
            // those are the only intermediates we use (anchors come from our own bundle).
            var sent = chain?.ChainPolicy.ExtraStore.Where(c => !c.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)).ToArray() ?? [];
            result = _verifier.Verify(leaf, sent, _time.GetUtcNow(), [usage], expectedIdentity, "peer");
        }

        Results.AddOrUpdate(sender, result);
        if (!result.Succeeded)
        {
            Log.PeerRefused(_logger, result.Failure, result.Message);
        }

        PeerVerified?.Invoke(this, new PeerVerificationEventArgs(sender, result));
        return result.Succeeded;
    }
}
