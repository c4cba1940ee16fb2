package dev.hull.service.docker;

import org.eclipse.jetty.http.HostPortHttpField;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.StringUtil;

/**
 * HTTP/1.1 that takes a request whose Host header is empty. RFC 9112 has a client send an empty
 * Host when the target has no authority — a unix socket — and docker 20.10's client does just that
 * for its hijacked requests (attach, exec start: {@code docker run} without -d); Jetty 12 answers
 * any blank Host with 400 and no setting turns that off (jetty/jetty.project#11287). Here an empty
 * Host reads as "localhost" before Jetty's check; everything else is Jetty's own connection.
 */
final class BlankHostHttp extends HttpConnectionFactory {
    BlankHostHttp(HttpConfiguration config) {
        super(config);
    }

    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint) {
        HttpConnection c = new HttpConnection(getHttpConfiguration(), connector, endPoint) {
            @Override
            protected RequestHandler newRequestHandler() {
                return new RequestHandler() {
                    @Override
                    public void parsedHeader(HttpField field) {
                        super.parsedHeader(field.getHeader() == HttpHeader.HOST && StringUtil.isBlank(field.getValue())
                                ? new HostPortHttpField("localhost") : field);
                    }
                };
            }
        };
        c.setTransferEncodingChunkMaxLength(getTransferEncodingChunkMaxLength());
        return configure(c, connector, endPoint);
    }
}
