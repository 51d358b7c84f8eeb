// SwimMembership: one node's side of SWIM membership with suspicion and
// incarnation numbers, as HashiCorp memberlist runs it on a LAN: a direct
// probe each period (randomised round robin), indirect probes through k
// members when the ack is late, suspicion, then death after a timeout that
// grows with log10(n), refutation by the suspected node, and news spread by
// piggybacking on every protocol message (each item retransmitted
// retransmit_mult * ceil(log10(n + 1)) times, fewest-sent first).
//
// It reads time, sets timers, draws randomness and sends bytes only through
// the runtime seam, so the same code runs in a test harness, the simulator
// and a real process. Single-threaded: one owner drives every call, timer
// and receive. Every change of a member's state reaches one listener.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/protocol/swim_message.h"
#include "core/runtime/clock.h"
#include "core/runtime/random.h"
#include "core/runtime/timers.h"
#include "core/runtime/transport.h"
#include "core/util/status.h"

namespace hcsim::core::cluster {

using protocol::MemberState;
using SwimMetadata = std::vector<std::pair<std::string, std::string>>;

// The defaults are memberlist's DefaultLANConfig, except push-pull
// anti-entropy, off here (memberlist: every 30 s): its full-state exchanges
// make per-node traffic grow linearly with n. What it repairs is repaired
// instead by targeted exchanges: a member that hears from a member it does
// not know, or believes dead, asks it for its state, and members believed
// dead are pinged with their death (reconnect_dead).
struct SwimConfig {
  TimeNs probe_interval_ns = 1'000'000'000;
  TimeNs probe_timeout_ns = 500'000'000;
  std::uint32_t indirect_checks = 3;
  std::uint32_t suspicion_mult = 4;   // timeout = mult * max(1, log10(n)) * probe_interval
  std::uint32_t retransmit_mult = 4;  // sends per news item = mult * ceil(log10(n + 1))
  TimeNs gossip_interval_ns = 200'000'000;
  std::uint32_t gossip_nodes = 3;
  TimeNs gossip_to_dead_ns = 30'000'000'000;  // dead members still get gossip this long
  // Anti-entropy: a full state exchange with one random member this often
  // (scaled up with log2(n) beyond 32 members, as memberlist does); 0 = off.
  TimeNs push_pull_interval_ns = 0;
  // Reconnecting with members believed dead, so that a live "dead" member
  // (after a partition heals, or a refutation that got lost) learns of its
  // death and refutes it: each period a node pings one member it believes
  // dead with probability dead/alive (about one ping per dead member per
  // period cluster-wide), and it also pings each member it declared or
  // learned dead 1, 2, 4, 8 and 16 periods after the death. The ping
  // carries the death. false turns both off.
  bool reconnect_dead = true;
  TimeNs join_retry_ns = 1'000'000'000;    // join: resend to every seed this often ...
  std::uint32_t join_attempts = 30;        // ... at most this many times
  TimeNs leave_linger_ns = 1'000'000'000;  // leave: keep gossiping the departure this long
  std::size_t packet_bytes_max = 1400;     // one datagram: the message plus piggybacked news
  // Members one node tracks, dead and left ones included: they are never
  // reaped (memberlist reaps them after GossipToTheDeadTime), so a cluster
  // that sees more distinct names than this ignores the newest ones
  // (counted in SwimStats::members_refused).
  std::size_t members_max = 4096;
};

// Ok, or the first broken rule ("probe_timeout must be below probe_interval" ...).
Status validate(const SwimConfig& config);

// memberlist's suspicion timeout for a cluster of n members.
TimeNs suspicion_timeout_ns(const SwimConfig& config, std::size_t members);
// memberlist's retransmit limit for a cluster of n members.
std::uint32_t retransmit_limit(const SwimConfig& config, std::size_t members);

struct SwimMember {
  std::string node;
  TransportAddress address = 0;
  MemberState state = MemberState::kAlive;
  std::uint32_t incarnation = 0;
  std::string from;  // who suspected / declared it dead
  SwimMetadata metadata;
  TimeNs state_change_ns = 0;
  TimeNs joined_at_ns = 0;  // when this node first heard of it
};

struct SwimStats {
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t decode_errors = 0;
  std::uint64_t probes = 0;
  std::uint64_t indirect_probes = 0;  // indirect pings sent as the prober
  std::uint64_t relayed_probes = 0;   // indirect pings served for others
  std::uint64_t suspicions = 0;       // members this node suspected itself
  std::uint64_t refutations = 0;      // times this node refuted its own suspicion or death
  std::uint64_t restatements = 0;     // times it re-announced itself to a member with old news
  std::uint64_t reconnect_pings = 0;
  std::uint64_t syncs = 0;      // full state exchanges started
  std::uint64_t news_sent = 0;  // piggybacked items sent
  std::uint64_t members_refused = 0;  // new members ignored because members_max was reached
};

class SwimMembership {
 public:
  struct Runtime {
    const Clock* clock = nullptr;
    Timers* timers = nullptr;
    RandomSource* random = nullptr;
    Transport* transport = nullptr;
  };
  // After every change of a member's state, incarnation, address or metadata
  // as this node sees it; `before` is nullopt for a member new to this node.
  using Listener = std::function<void(const SwimMember& member, std::optional<MemberState> before)>;

  // `config` must be valid (validate()); every runtime pointer non-null.
  SwimMembership(std::string self, SwimConfig config, Runtime runtime);
  ~SwimMembership();
  SwimMembership(const SwimMembership&) = delete;
  SwimMembership& operator=(const SwimMembership&) = delete;

  void set_listener(Listener listener) { listener_ = std::move(listener); }

  // Starts probing and gossip as a cluster of one. Error if already started,
  // if the node id is empty or longer than 255 bytes, or if the metadata
  // cannot be sent (see update_metadata).
  Status start(SwimMetadata metadata = {});
  // A member known without asking (a predefined cluster): alive, incarnation
  // 0, not gossiped. Error if running has not started, the id is taken, or
  // it is empty or longer than 255 bytes.
  Status add_known_member(std::string_view node, TransportAddress address);
  // Sends our state to every seed, again each join_retry until one answers.
  // No seeds: nothing to do (this node founds the cluster).
  Status join(std::span<const TransportAddress> seeds);
  // Announces the departure, gossips it for leave_linger, then stops.
  Status leave();
  // Stops at once (a crash, or the end of a leave): timers cancelled,
  // messages ignored. Idempotent.
  void stop();
  // Publishes new metadata with a new incarnation. Error (nothing changes)
  // for metadata the protocol cannot carry: more than 64 pairs, a key or
  // value over 255 bytes, or an update that does not fit one packet.
  Status update_metadata(SwimMetadata metadata);

  bool running() const { return running_; }
  bool leaving() const { return leaving_; }
  bool joined() const { return joined_; }  // heard a seed's state (or had no seeds)
  const std::string& self() const { return self_; }
  std::uint32_t incarnation() const { return members_.empty() ? 0 : members_[0].incarnation; }
  const SwimConfig& config() const { return config_; }

  const SwimMember* find(std::string_view node) const;
  std::vector<SwimMember> members() const;  // sorted by node id, self included
  std::size_t member_count() const { return members_.size(); }
  std::size_t count(MemberState state) const { return counts_[static_cast<std::size_t>(state)]; }
  std::size_t pending_news() const { return queue_.size(); }
  const SwimStats& stats() const { return stats_; }

 private:
  using Index = std::uint32_t;
  static constexpr Index kNone = ~Index{0};

  struct Entry : SwimMember {
    TimerId suspicion_timer = 0;
  };
  struct Probe {
    bool active = false;
    bool acked = false;
    std::uint32_t seq = 0;
    Index target = kNone;
    TimerId timeout_timer = 0;
  };
  struct Relay {  // an indirect probe served for another member
    TransportAddress origin = 0;
    std::uint32_t origin_seq = 0;
    TimerId expiry = 0;
  };
  // The news queue: (transmits, newest first, member); one item per member,
  // always its current state.
  using NewsKey = std::tuple<std::uint32_t, std::uint64_t, Index>;

  Status check_metadata(const SwimMetadata& metadata) const;
  void on_receive(TransportAddress from, std::string_view bytes);
  void handle(TransportAddress from, protocol::SwimMessage& message);
  void apply(const protocol::MemberUpdate& update, bool from_sync);
  void ask_state(TransportAddress from, const std::string& sender);  // a state exchange with a member we missed news of
  void on_alive(const protocol::MemberUpdate& u);
  void on_suspect(const protocol::MemberUpdate& u);
  void on_dead(const protocol::MemberUpdate& u, bool left);
  void refute(std::uint32_t accused_incarnation);
  void restate();  // re-announces our current state (someone has old news of us)
  void set_state(Index i, MemberState state, std::uint32_t incarnation, std::string_view from);
  void notify(Index i, std::optional<MemberState> before);

  void probe_tick();
  void probe_timeout(std::uint32_t seq);
  void gossip_tick();   // every gossip interval
  void gossip_round();  // news to gossip_nodes members, if there is any
  void push_pull_tick();
  void join_tick(std::vector<TransportAddress> seeds, std::uint32_t attempt);
  void reconnect_ping();
  void send_reconnect(Index i);
  void recheck_recent_dead();
  Index next_probe_target();
  void insert_probe_order(Index i);
  // A new alive member (the caller checked the bounds); its index.
  Index add_member(std::string node, TransportAddress address, std::uint32_t incarnation, SwimMetadata metadata);
  // Up to k distinct members other than self and `exclude` that pass
  // `eligible`, drawn at random (bounded rejection sampling).
  template <typename Pred>
  std::vector<Index> random_members(std::size_t k, Index exclude, Pred eligible);

  void send(TransportAddress to, protocol::SwimMessage& message, bool piggyback = true);
  void send_sync(TransportAddress to, protocol::MessageType type, bool join);
  void queue_news(Index i);
  void fill_news(protocol::SwimMessage& message, std::size_t budget_bytes);
  protocol::MemberUpdate update_of(Index i) const;
  std::size_t live_members() const { return count(MemberState::kAlive) + count(MemberState::kSuspect); }
  // A timer whose callback runs only if this membership has not stopped
  // (or been destroyed) since: stop() needs to cancel nothing.
  TimerId after(TimeNs delay_ns, std::function<void()> fn);
  void cancel(TimerId& id);

  const std::string self_;
  const SwimConfig config_;
  const Runtime rt_;
  Listener listener_;
  bool started_ = false;
  bool running_ = false;
  bool leaving_ = false;
  bool joined_ = false;
  // Bumps on stop and destruction; timers of an older generation do nothing.
  std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);

  std::vector<Entry> members_;  // [0] is self
  absl::flat_hash_map<std::string, Index> index_;
  std::size_t counts_[4] = {0, 0, 0, 0};

  std::vector<Index> probe_order_;
  std::size_t probe_pos_ = 0;
  Probe probe_;
  std::uint32_t next_seq_ = 1;
  absl::flat_hash_map<std::uint32_t, Relay> relays_;
  absl::flat_hash_map<std::string, TimeNs> asked_;  // unknown or "dead" senders we asked for a state exchange
  static constexpr std::size_t kMaxAsked = 1024;
  static constexpr std::size_t kMaxRelays = 1024;

  struct RecentDead {
    Index member;
    std::uint32_t step;  // pings sent so far
  };
  std::vector<RecentDead> recent_dead_;  // at most one entry per member
  static constexpr std::uint32_t kRecentDeadPings = 5;

  std::set<NewsKey> queue_;
  std::vector<std::optional<NewsKey>> queued_;  // by member
  std::uint64_t news_serial_ = 0;

  SwimStats stats_;
};

}  // namespace hcsim::core::cluster
