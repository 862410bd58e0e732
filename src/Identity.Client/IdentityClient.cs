using System.Diagnostics.Metrics;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Identity.Client.Tls;
using Identity.Client.Verification;
using Identity.Pki.Time;
using Identity.Pki.X509;
using Identity.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Client;

/// <summary>Raised when new credentials are published.</summary>
public sealed class CredentialsChangedEventArgs(WorkloadCredentials credentials) : EventArgs
{
    /// <summary>The new snapshot.</summary>
    public WorkloadCredentials Credentials { get; } = credentials;
}

/// <summary>
/// The proxy side of Linkerd's identity protocol: holds a P-256 key and a CSR made once per instance, calls
/// <c>io.linkerd.proxy.identity.Identity/Certify</c>, verifies the answer against the trust anchors and publishes
/// <see cref="WorkloadCredentials"/> snapshots. <see cref="StartAsync"/> runs a renewal loop on the injected
/// <see cref="TimeProvider"/>: renew at <see cref="IdentityClientOptions.RefreshFraction"/> of the remaining lifetime,
/// back off with jitter on failure, keep serving the current certificate while retries fail.
/// Its Start/Stop methods match IHostedService, so a host can wrap it directly.
/// </summary>
public sealed class IdentityClient : IWorkloadCredentialsProvider, IAsyncDisposable, IDisposable
{
    private readonly IdentityClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IdentityClientMetrics _metrics;
    private readonly TrustAnchorBundle _anchors;
    private readonly ChainVerifier _verifier;
    private readonly WorkloadKey _key;
    private readonly ByteString _csr;
    private readonly RenewalSchedule _schedule;
    private readonly GrpcChannel _channel;
    private readonly IdentityGrpc.IdentityClient _client;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TaskCompletionSource<WorkloadCredentials> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _sync = new();
    private WorkloadCredentials? _current;
    private CancellationTokenSource _changeSource = new();
    private CancellationTokenSource? _loopCts;
    private Task? _loop;
    private bool _disposed;

    /// <summary>Creates the client (DI constructor). Options are validated here; invalid options throw <see cref="OptionsValidationException"/>.</summary>
    public IdentityClient(
        IOptions<IdentityClientOptions> options,
        TimeProvider? timeProvider = null,
        ILogger<IdentityClient>? logger = null,
        IMeterFactory? meterFactory = null)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), timeProvider, logger, meterFactory, random: null)
    {
    }

    internal IdentityClient(
        IdentityClientOptions options,
        TimeProvider? timeProvider,
        ILogger? logger,
        IMeterFactory? meterFactory,
        Func<double>? random)
    {
        var validation = new IdentityClientOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(IdentityClientOptions), validation.Failures);
        }

        _options = options.Clone();
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _anchors = TrustAnchorBundle.Parse(_options.TrustAnchorsPem);
        _verifier = new ChainVerifier(_anchors.Certificates);
        _key = WorkloadKey.Create(_options.LocalIdentity);
        _csr = ByteString.CopyFrom(_key.CsrDer);
        _schedule = new RenewalSchedule(_options, random ?? Random.Shared.NextDouble);
        _metrics = new IdentityClientMetrics(meterFactory);
        _channel = CreateChannel();
        _client = new IdentityGrpc.IdentityClient(_channel);
    }

    /// <summary>The identity this client requests.</summary>
    public string LocalIdentity => _options.LocalIdentity;

    /// <summary>The trust anchors every answer (and, through <see cref="CreateMeshTls"/>, every peer) is verified against.</summary>
    public IReadOnlyList<X509Certificate2> TrustAnchors => _verifier.Anchors;

    /// <summary>The current credentials, or null before the first successful Certify. Kept (not cleared) while renewals fail.</summary>
    public WorkloadCredentials? Current => Volatile.Read(ref _current);

    /// <summary>Raised after new credentials are published (on the thread that completed the renewal).</summary>
    public event EventHandler<CredentialsChangedEventArgs>? CredentialsChanged;

    /// <summary>Raised after a renewal or retry is scheduled, with its delay (for diagnostics and deterministic tests).</summary>
    internal event Action<ScheduledAttempt>? Scheduled;

    /// <summary>The DER CSR sent on every call (made once per instance).</summary>
    internal ReadOnlyMemory<byte> CsrDer => _key.CsrDer;

    /// <summary>A change token that fires when the next credentials are published.</summary>
    public IChangeToken GetChangeToken()
    {
        lock (_sync)
        {
            return new CancellationChangeToken(_changeSource.Token);
        }
    }

    /// <summary>Completes with the first credentials (immediately when there already are some).</summary>
    public Task<WorkloadCredentials> WaitForCredentialsAsync(CancellationToken cancellationToken = default) =>
        _first.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Yields the current credentials (if any), then every new snapshot until <paramref name="cancellationToken"/> fires.
    /// A slow consumer skips intermediate snapshots and always sees the latest.
    /// </summary>
    public async IAsyncEnumerable<WorkloadCredentials> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<WorkloadCredentials>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        void OnChanged(object? sender, CredentialsChangedEventArgs e) => channel.Writer.TryWrite(e.Credentials);
        CredentialsChanged += OnChanged;
        try
        {
            if (Current is { } current)
            {
                channel.Writer.TryWrite(current);
            }

            while (true)
            {
                WorkloadCredentials next;
                try
                {
                    next = await channel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                yield return next;
            }
        }
        finally
        {
            CredentialsChanged -= OnChanged;
        }
    }

    /// <summary>Mesh TLS option factories that present this client's current credentials and verify peers against its anchors.</summary>
    public MeshTls CreateMeshTls(ILogger? logger = null) => new(this, _verifier.Anchors, _time, logger ?? _logger);

    /// <summary>Starts the background renewal loop (first Certify immediately).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_sync)
        {
            if (_loop is not null)
            {
                throw new InvalidOperationException("the identity client is already started");
            }

            _loopCts = new CancellationTokenSource();
            var token = _loopCts.Token;
            _loop = Task.Run(() => RunAsync(token), CancellationToken.None);
        }

        Log.Started(_logger, _options.LocalIdentity, _options.Address!);
        return Task.CompletedTask;
    }

    /// <summary>Stops the renewal loop; the current credentials stay available.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task? loop;
        lock (_sync)
        {
            loop = _loop;
            _loopCts?.Cancel();
            _loop = null;
        }

        if (loop is not null)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
            Log.Stopped(_logger);
        }

        _loopCts?.Dispose();
        _loopCts = null;
    }

    /// <summary>
    /// One Certify attempt: reads the token file, calls the service with a deadline, verifies the answer and publishes it.
    /// Throws <see cref="CertifyException"/> with a precise reason on any failure, leaving <see cref="Current"/> unchanged.
    /// </summary>
    public async Task<WorkloadCredentials> CertifyAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var credentials = await CertifyCoreAsync(cancellationToken).ConfigureAwait(false);
            Publish(credentials);
            _metrics.Success(credentials.NotAfter);
            return credentials;
        }
        catch (CertifyException)
        {
            _metrics.Failure();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<WorkloadCredentials> CertifyCoreAsync(CancellationToken cancellationToken)
    {
        var token = await ReadTokenAsync(cancellationToken).ConfigureAwait(false);
        CertifyResponse response;
        using (var deadline = new CancellationTokenSource(_options.CallTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token))
        {
            try
            {
                var request = new CertifyRequest
                {
                    Identity = _options.LocalIdentity,
                    Token = ByteString.CopyFrom(token),
                    CertificateSigningRequest = _csr,
                };
                response = await _client.CertifyAsync(request, cancellationToken: linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new CertifyException(CertifyFailureReason.DeadlineExceeded, $"Certify did not complete within {_options.CallTimeout}", ex);
            }
            catch (RpcException ex) when (FindAuthenticationFailure(ex) is { } tlsFailure)
            {
                throw new CertifyException(CertifyFailureReason.ServerNotTrusted, $"identity service refused: {tlsFailure.Message}", ex);
            }
            catch (RpcException ex)
            {
                var reason = ex.StatusCode == StatusCode.DeadlineExceeded ? CertifyFailureReason.DeadlineExceeded : CertifyFailureReason.ServerError;
                throw new CertifyException(reason, $"identity service returned {ex.StatusCode}: {ex.Status.Detail}", ex);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(token);
            }
        }

        return Accept(response, _time.GetUtcNow());
    }

    private static AuthenticationException? FindAuthenticationFailure(RpcException ex)
    {
        for (Exception? e = ex.Status.DebugException ?? ex.InnerException; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException authentication)
            {
                return authentication;
            }
        }

        return null;
    }

    private async Task<byte[]> ReadTokenAsync(CancellationToken cancellationToken)
    {
        byte[] token;
        try
        {
            // Re-read every time: projected ServiceAccount tokens are rotated by the kubelet.
            token = await File.ReadAllBytesAsync(_options.TokenFile, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CertifyException(CertifyFailureReason.TokenUnreadable, $"token file {_options.TokenFile} could not be read: {ex.Message}", ex);
        }

        if (token.Length == 0)
        {
            throw new CertifyException(CertifyFailureReason.TokenEmpty, $"token file {_options.TokenFile} is empty");
        }

        return token;
    }

    private WorkloadCredentials Accept(CertifyResponse response, DateTimeOffset now)
    {
        if (response.ValidUntil is null)
        {
            throw new CertifyException(CertifyFailureReason.MissingValidUntil, "the identity service's answer has no valid_until");
        }

        var validUntil = response.ValidUntil.ToDateTimeOffset();
        if (validUntil <= now)
        {
            throw new CertifyException(CertifyFailureReason.ValidUntilNotInFuture, $"the answer's valid_until {GoTime.Rfc3339(validUntil)} is not after now ({GoTime.Rfc3339(now)})");
        }

        var leaf = Load(response.LeafCertificate, "leaf_certificate");
        var intermediates = new List<X509Certificate2>();
        try
        {
            for (var i = 0; i < response.IntermediateCertificates.Count; i++)
            {
                intermediates.Add(Load(response.IntermediateCertificates[i], $"intermediate_certificates[{i}]"));
            }

            if (!_key.Matches(leaf))
            {
                throw new CertifyException(CertifyFailureReason.KeyMismatch, "the leaf certificate does not certify this client's key");
            }

            var result = _verifier.Verify(leaf, intermediates, now, [ChainVerifier.ServerAuthOid, ChainVerifier.ClientAuthOid], _options.LocalIdentity, "leaf");
            if (!result.Succeeded)
            {
                var reason = result.Failure switch
                {
                    VerificationFailure.IdentityMismatch or VerificationFailure.NoIdentity => CertifyFailureReason.IdentityMismatch,
                    VerificationFailure.Expired or VerificationFailure.NotYetValid => CertifyFailureReason.NotTimeValid,
                    VerificationFailure.WrongKeyUsage => CertifyFailureReason.WrongKeyUsage,
                    _ => CertifyFailureReason.UntrustedChain,
                };
                throw new CertifyException(reason, result.Message);
            }

            var withKey = leaf.CopyWithPrivateKey(_key.Key);
            return WorkloadCredentials.Create(withKey, intermediates);
        }
        catch
        {
            foreach (var c in intermediates)
            {
                c.Dispose();
            }

            throw;
        }
        finally
        {
            leaf.Dispose();
        }
    }

    private static X509Certificate2 Load(ByteString der, string field)
    {
        if (der.IsEmpty)
        {
            throw new CertifyException(CertifyFailureReason.MalformedCertificate, $"{field} is empty");
        }

        var loaded = CertificateDecoder.Load(der.Span);
        return loaded.Value ?? throw new CertifyException(CertifyFailureReason.MalformedCertificate, $"{field} is not a DER certificate: {loaded.Error}");
    }

    private void Publish(WorkloadCredentials credentials)
    {
        CancellationTokenSource previous;
        lock (_sync)
        {
            Volatile.Write(ref _current, credentials);
            previous = _changeSource;
            _changeSource = new CancellationTokenSource();
        }

        _first.TrySetResult(credentials);
        previous.Cancel();
        previous.Dispose();
        CredentialsChanged?.Invoke(this, new CredentialsChangedEventArgs(credentials));
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        var expiryReported = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                var credentials = await CertifyAsync(cancellationToken).ConfigureAwait(false);
                failures = 0;
                expiryReported = false;
                delay = _schedule.AfterSuccess(credentials.NotAfter - _time.GetUtcNow());
                Log.Certified(_logger, credentials.Identity, new Rfc3339Time(credentials.NotAfter), delay);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever went wrong, the loop must live on: a dead loop means a silent expiry later.
                failures++;
                var now = _time.GetUtcNow();
                var current = Current;
                delay = _schedule.AfterFailure(failures, current is null ? null : current.NotAfter - now);
                var reason = ex is CertifyException ce ? ce.Reason : CertifyFailureReason.ServerError;
                Log.CertifyFailed(_logger, reason, ex.Message, failures, delay, current is null ? "(none)" : GoTime.Rfc3339(current.NotAfter));
                if (current is not null && current.NotAfter <= now && !expiryReported)
                {
                    expiryReported = true;
                    Log.CertificateExpired(_logger, current.Identity, new Rfc3339Time(current.NotAfter));
                }
            }

            _metrics.Scheduled(_time.GetUtcNow() + delay);
            // Create the timer before announcing it, so a test that advances the fake clock on the announcement
            // cannot slip between the two.
            var wait = Task.Delay(delay, _time, cancellationToken);
            Scheduled?.Invoke(new ScheduledAttempt(delay, failures));
            try
            {
                await wait.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private GrpcChannel CreateChannel()
    {
        var address = _options.Address!;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _options.CallTimeout,
            EnableMultipleHttp2Connections = false,
        };

        if (address.Scheme == Uri.UriSchemeHttps)
        {
            // TLS is done here rather than by the handler: the handler insists on ALPN "h2", while Linkerd's control
            // plane (a proxy terminating TLS) negotiates none. We offer h2 but speak HTTP/2 with prior knowledge either
            // way, so requests carry :scheme http; a Kestrel server terminating TLS itself needs AllowAlternateSchemes.
            var serverTls = new MeshTls(this, _verifier.Anchors, _time, _logger);
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
                    var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
                    var tls = serverTls.CreateClientOptions(_options.ServerIdentity!);
                    tls.ApplicationProtocols = [SslApplicationProtocol.Http2];
                    await MeshTls.AuthenticateAsClientCoreAsync(ssl, tls, ct).ConfigureAwait(false);
                    return ssl;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            address = new UriBuilder(address) { Scheme = Uri.UriSchemeHttp }.Uri;
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            ThrowOperationCanceledOnCancellation = true,
        });
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        // Stopping is prompt (the loop only waits on cancellable timers and calls), so blocking here is bounded.
        StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        _disposed = true;
        _channel.Dispose();
        _metrics.Dispose();
        _gate.Dispose();
        _changeSource.Dispose();
        // The key and anchors stay alive: published snapshots may still be in use by open connections.
    }
}

/// <summary>A scheduled Certify attempt: its delay, and how many consecutive failures preceded it (0 after a success).</summary>
internal readonly record struct ScheduledAttempt(TimeSpan Delay, int ConsecutiveFailures);
