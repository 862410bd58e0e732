using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Identity.Client.Tls;
using Identity.Client.Verification;

namespace Identity.Client.Tests.Support;

/// <summary>
/// Terminates mesh TLS (no ALPN, client certificate optional) and relays bytes to a plaintext h2c backend:
/// the topology of Linkerd's identity pod, whose sidecar proxy fronts the plaintext identity container.
/// </summary>
internal sealed class TlsRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly MeshTls _tls;
    private readonly Uri _backend;
    private Task? _accept;

    public TlsRelay(MeshTls tls, Uri backend)
    {
        _tls = tls;
        _backend = backend;
    }

    /// <summary>Verified client identities, one per accepted connection (null for an unauthenticated client).</summary>
    public ConcurrentQueue<CertificateVerificationResult> Clients { get; } = new();

    /// <summary>ALPN protocols negotiated, one per connection.</summary>
    public ConcurrentQueue<string> NegotiatedAlpn { get; } = new();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Start()
    {
        _listener.Start();
        _accept = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_cts.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => RelayAsync(socket));
        }
    }

    private async Task RelayAsync(Socket socket)
    {
        try
        {
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            var client = await _tls.AuthenticateAsServerAsync(ssl, requireClientCertificate: false, _cts.Token);
            Clients.Enqueue(client);
            NegotiatedAlpn.Enqueue(ssl.NegotiatedApplicationProtocol.ToString());
            using var backend = new TcpClient();
            await backend.ConnectAsync(_backend.Host, _backend.Port, _cts.Token);
            var upstream = backend.GetStream();
            var up = ssl.CopyToAsync(upstream, _cts.Token);
            var down = upstream.CopyToAsync(ssl, _cts.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
            // A relay connection ending is normal at test teardown.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        if (_accept is not null)
        {
            await _accept;
        }

        _listener.Dispose();
        _cts.Dispose();
    }
}
