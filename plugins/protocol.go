package plugins

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/service"
)

// Handshake values. A plugin process and its host must agree on all three;
// ProtocolVersion changes whenever the wire types change incompatibly.
const (
	// ProtocolVersion is the version of augur's plugin protocol.
	ProtocolVersion = 1
	// MagicCookieKey is the environment variable the host sets for the plugin.
	MagicCookieKey = "AUGUR_PLUGIN"
	// MagicCookieValue is the value of MagicCookieKey.
	MagicCookieValue = "5c4b0d5e-augur-analyzer"
)

// PluginName is the name the analyzer is served and dispensed under.
const PluginName = "analyzer"

// CodecName is the gRPC content-subtype of augur's JSON codec.
const CodecName = "augur-json"

// ServiceName is the fully qualified gRPC service name.
const ServiceName = "augur.plugin.v1.Analyzer"

// Handshake is the go-plugin handshake of augur's plugin protocol.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// PluginMap is the go-plugin plugin set a host dispenses from: one gRPC
// plugin, PluginName.
var PluginMap = map[string]plugin.Plugin{
	PluginName: &AnalyzerPlugin{},
}

// Analyzer is what the plugin serves: the service's two questions.
// *service.Service and *Client implement it.
type Analyzer interface {
	// Decide runs one analysis tick.
	Decide(ctx context.Context, req service.DecideRequest) (analysis.Decision, error)
	// Query renders and runs metrics and checks each value against its range.
	Query(ctx context.Context, req service.QueryRequest) (service.QueryResponse, error)
}

var (
	_ Analyzer = (*service.Service)(nil)
	_ Analyzer = (*Client)(nil)
)

// AnalyzerPlugin is the go-plugin plugin.GRPCPlugin for an Analyzer. Impl is
// needed on the plugin side only.
type AnalyzerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl answers the calls (plugin side).
	Impl Analyzer
}

var _ plugin.GRPCPlugin = (*AnalyzerPlugin)(nil)

// GRPCServer registers the analyzer service on s.
func (p *AnalyzerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return fmt.Errorf("plugins: AnalyzerPlugin.Impl is nil")
	}
	s.RegisterService(&serviceDesc, p.Impl)
	return nil
}

// GRPCClient returns an Analyzer that calls the service over conn.
func (p *AnalyzerPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &grpcAnalyzer{conn: conn}, nil
}

// jsonCodec is a gRPC codec carrying the service's JSON types.
type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error {
	// A member given twice would be last-wins in encoding/json.
	if err := manifest.DuplicateJSONKey(data, ""); err != nil {
		return fmt.Errorf("%w: %w", service.ErrBadRequest, err)
	}
	return json.Unmarshal(data, v)
}
func (jsonCodec) Name() string { return CodecName }

func init() {
	// The server picks a codec by the request's content-subtype, so the
	// codec must be registered in the plugin process; go-plugin's own
	// services keep using protobuf.
	encoding.RegisterCodec(jsonCodec{})
}

const (
	methodDecide = "/" + ServiceName + "/Decide"
	methodQuery  = "/" + ServiceName + "/Query"
)

// serviceDesc declares the analyzer service by hand (no protoc): two unary
// methods whose messages are the service package's JSON types.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: ServiceName,
	HandlerType: (*Analyzer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Decide", Handler: decideHandler},
		{MethodName: "Query", Handler: queryHandler},
	},
	Streams:  []grpc.StreamDesc{},
	Metadata: "augur/plugin/v1",
}

func decideHandler(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
	var req service.DecideRequest
	if err := dec(&req); err != nil {
		return nil, toStatus(fmt.Errorf("%w: decode DecideRequest: %w", service.ErrBadRequest, err))
	}
	call := func(ctx context.Context, r any) (any, error) {
		d, err := srv.(Analyzer).Decide(ctx, *r.(*service.DecideRequest))
		if err != nil {
			return nil, toStatus(err)
		}
		return &d, nil
	}
	if icpt == nil {
		return call(ctx, &req)
	}
	return icpt(ctx, &req, &grpc.UnaryServerInfo{Server: srv, FullMethod: methodDecide}, call)
}

func queryHandler(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
	var req service.QueryRequest
	if err := dec(&req); err != nil {
		return nil, toStatus(fmt.Errorf("%w: decode QueryRequest: %w", service.ErrBadRequest, err))
	}
	call := func(ctx context.Context, r any) (any, error) {
		resp, err := srv.(Analyzer).Query(ctx, *r.(*service.QueryRequest))
		if err != nil {
			return nil, toStatus(err)
		}
		return &resp, nil
	}
	if icpt == nil {
		return call(ctx, &req)
	}
	return icpt(ctx, &req, &grpc.UnaryServerInfo{Server: srv, FullMethod: methodQuery}, call)
}

// grpcAnalyzer is the host-side Analyzer over a gRPC connection.
type grpcAnalyzer struct {
	conn *grpc.ClientConn
}

func (g *grpcAnalyzer) Decide(ctx context.Context, req service.DecideRequest) (analysis.Decision, error) {
	var d analysis.Decision
	if err := g.conn.Invoke(ctx, methodDecide, &req, &d, grpc.CallContentSubtype(CodecName)); err != nil {
		return analysis.Decision{}, fmt.Errorf("augur plugin Decide: %w", fromStatus(err))
	}
	return d, nil
}

func (g *grpcAnalyzer) Query(ctx context.Context, req service.QueryRequest) (service.QueryResponse, error) {
	var resp service.QueryResponse
	if err := g.conn.Invoke(ctx, methodQuery, &req, &resp, grpc.CallContentSubtype(CodecName)); err != nil {
		return service.QueryResponse{}, fmt.Errorf("augur plugin Query: %w", fromStatus(err))
	}
	return resp, nil
}
