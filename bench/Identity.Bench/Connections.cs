using Grpc.Net.Client;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Bench;

/// <summary>N HTTP/2 connections to the server, one channel and handler each, as N separate proxies would hold.</summary>
internal sealed class Connections : IDisposable
{
    private readonly GrpcChannel[] _channels;

    public Connections(string address, int count)
    {
        _channels = Enumerable.Range(0, count).Select(_ => Open(address)).ToArray();
        Clients = _channels.Select(c => new IdentityGrpc.IdentityClient(c)).ToArray();
    }

    public IdentityGrpc.IdentityClient[] Clients { get; }

    /// <summary>One connection of its own; disposing the channel closes it.</summary>
    public static GrpcChannel Open(string address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false },
        DisposeHttpClient = true,
    });

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
