import { EventEmitter } from 'node:events';
import type { ClusterConfig, NodeConfig } from '../config/types';
import { DnsServer } from '../server/dns-server';
import { QueryStats } from '../server/stats';
import { compile, type AnswerTable } from '../zone/compile';
import { allUpInputs, type ZoneInputs } from '../zone/inputs';
import { buildZone } from '../zone/zone';
import type { Logger } from './log';

/**
 * One node's agent: owns the DNS listeners and the current answer table, and rebuilds the table
 * whenever the zone inputs change. The table is replaced whole, never edited in place.
 */
export class Agent extends EventEmitter {
  readonly node: NodeConfig;
  private config: ClusterConfig;
  private server: DnsServer | undefined;
  private inputs: ZoneInputs;
  private serial: number;
  readonly stats = new QueryStats();
  readonly startedAt = Date.now();

  constructor(
    config: ClusterConfig,
    nodeName: string,
    private readonly log: Logger,
  ) {
    super();
    this.config = config;
    this.node = config.nodes.find((n) => n.name === nodeName)!;
    this.serial = Math.floor(Date.now() / 1000);
    this.inputs = allUpInputs(config, this.serial);
  }

  get currentConfig(): ClusterConfig {
    return this.config;
  }

  get table(): AnswerTable | undefined {
    return this.server?.table;
  }

  private compileTable(): AnswerTable {
    return compile(buildZone(this.config, this.inputs), {
      identity: this.config.dns.chaos ? this.node.name : undefined,
      unavailable: this.config.dns.minority,
    });
  }

  async start(): Promise<void> {
    const addresses = this.node.listen;
    this.server = new DnsServer(this.compileTable(), {
      addresses,
      port: this.config.dns.port,
      identity: this.node.name,
      tcpIdleTimeoutMs: this.config.dns.tcpIdleTimeoutMs,
      tcpMaxConnections: this.config.dns.tcpMaxConnections,
      stats: this.stats,
    });
    await this.server.listen();
    this.log.info(
      { event: 'listening', addresses, port: this.config.dns.port, zone: this.config.zone, serial: this.serial },
      `serving ${this.config.zone} on ${addresses.map((a) => `${a}:${this.config.dns.port}`).join(', ')} (udp+tcp)`,
    );
  }

  /** New zone inputs (from membership): the serial moves forward and the table is swapped. */
  updateInputs(next: Omit<ZoneInputs, 'serial'>): void {
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
    this.inputs = { ...next, serial: this.serial };
    this.server?.setTable(this.compileTable());
    this.emit('table', this.server?.table);
  }

  /** Applies an already validated config whose node set and ports are unchanged. */
  reloadConfig(config: ClusterConfig): void {
    this.config = config;
    this.updateInputs(this.inputs);
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
