package dev.conveyor.orchestrator.security;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BiFunction;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * The server side of a remoting connection over TLS, refusing a frame that claims more than
 * {@code maxFrameBytes}: it reads Artery's TCP framing as the bytes are decrypted — the
 * connection header (4 bytes of magic, 1 of stream id), then frames of a 4-byte little-endian
 * length and that many bytes — and fails the connection at the first length past the bound,
 * before any of the frame is buffered. Pekko's own framing checks no length on the way in, so a
 * member (it passed the mutual handshake) could otherwise make a node hold a frame of up to 2 GiB.
 * Everything else is the wrapped engine's.
 */
final class FrameBoundEngine extends SSLEngine {
  private static final int CONNECTION_HEADER = 5;

  private final SSLEngine engine;
  private final int maxFrameBytes;
  private int headerLeft = CONNECTION_HEADER; // bytes of the connection header not yet seen
  private long payloadLeft; // bytes of the current frame not yet seen
  private int lengthBytes; // bytes of the next length field seen so far
  private int length; // the length field so far

  FrameBoundEngine(SSLEngine engine, int maxFrameBytes) {
    super(engine.getPeerHost(), engine.getPeerPort());
    this.engine = engine;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int count) throws SSLException {
    int[] before = new int[count];
    for (int i = 0; i < count; i++) {
      before[i] = dsts[offset + i].position();
    }
    SSLEngineResult r = engine.unwrap(src, dsts, offset, count);
    for (int i = 0; i < count; i++) {
      scan(dsts[offset + i], before[i], dsts[offset + i].position());
    }
    return r;
  }

  /** Follows the framing through bytes {@code [from, to)} of {@code b} (absolute; its position is left alone). */
  void scan(ByteBuffer b, int from, int to) throws SSLException {
    int i = from;
    while (i < to) {
      if (headerLeft > 0) {
        int n = Math.min(headerLeft, to - i);
        headerLeft -= n;
        i += n;
      } else if (payloadLeft > 0) {
        int n = (int) Math.min(payloadLeft, to - i);
        payloadLeft -= n;
        i += n;
      } else {
        length |= (b.get(i++) & 0xff) << (8 * lengthBytes++);
        if (lengthBytes == 4) {
          if (length < 0 || length > maxFrameBytes) {
            engine.closeInbound();
            throw new SSLException("a remoting frame claims " + Integer.toUnsignedString(length) + " bytes, past the bound"
                + " of " + maxFrameBytes + " (pekko.remote.artery.advanced.maximum-frame-size): connection refused");
          }
          payloadLeft = length;
          length = 0;
          lengthBytes = 0;
        }
      }
    }
  }

  @Override
  public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int count, ByteBuffer dst) throws SSLException {
    return engine.wrap(srcs, offset, count, dst);
  }

  @Override
  public Runnable getDelegatedTask() {
    return engine.getDelegatedTask();
  }

  @Override
  public void closeInbound() throws SSLException {
    engine.closeInbound();
  }

  @Override
  public boolean isInboundDone() {
    return engine.isInboundDone();
  }

  @Override
  public void closeOutbound() {
    engine.closeOutbound();
  }

  @Override
  public boolean isOutboundDone() {
    return engine.isOutboundDone();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return engine.getSupportedCipherSuites();
  }

  @Override
  public String[] getEnabledCipherSuites() {
    return engine.getEnabledCipherSuites();
  }

  @Override
  public void setEnabledCipherSuites(String[] suites) {
    engine.setEnabledCipherSuites(suites);
  }

  @Override
  public String[] getSupportedProtocols() {
    return engine.getSupportedProtocols();
  }

  @Override
  public String[] getEnabledProtocols() {
    return engine.getEnabledProtocols();
  }

  @Override
  public void setEnabledProtocols(String[] protocols) {
    engine.setEnabledProtocols(protocols);
  }

  @Override
  public SSLSession getSession() {
    return engine.getSession();
  }

  @Override
  public SSLSession getHandshakeSession() {
    return engine.getHandshakeSession();
  }

  @Override
  public void beginHandshake() throws SSLException {
    engine.beginHandshake();
  }

  @Override
  public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
    return engine.getHandshakeStatus();
  }

  @Override
  public void setUseClientMode(boolean mode) {
    engine.setUseClientMode(mode);
  }

  @Override
  public boolean getUseClientMode() {
    return engine.getUseClientMode();
  }

  @Override
  public void setNeedClientAuth(boolean need) {
    engine.setNeedClientAuth(need);
  }

  @Override
  public boolean getNeedClientAuth() {
    return engine.getNeedClientAuth();
  }

  @Override
  public void setWantClientAuth(boolean want) {
    engine.setWantClientAuth(want);
  }

  @Override
  public boolean getWantClientAuth() {
    return engine.getWantClientAuth();
  }

  @Override
  public void setEnableSessionCreation(boolean flag) {
    engine.setEnableSessionCreation(flag);
  }

  @Override
  public boolean getEnableSessionCreation() {
    return engine.getEnableSessionCreation();
  }

  @Override
  public SSLParameters getSSLParameters() {
    return engine.getSSLParameters();
  }

  @Override
  public void setSSLParameters(SSLParameters params) {
    engine.setSSLParameters(params);
  }

  @Override
  public String getApplicationProtocol() {
    return engine.getApplicationProtocol();
  }

  @Override
  public String getHandshakeApplicationProtocol() {
    return engine.getHandshakeApplicationProtocol();
  }

  @Override
  public void setHandshakeApplicationProtocolSelector(BiFunction<SSLEngine, List<String>, String> selector) {
    engine.setHandshakeApplicationProtocolSelector(selector);
  }

  @Override
  public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
    return engine.getHandshakeApplicationProtocolSelector();
  }
}
