// The ranking and phase rules every screen shows, in one place.
// Ranking (contract 4): most dots, then most voters; equal on both is a tie with the same rank
// number (1, 1, 3). Where an order is needed among tied proposals (a list, the cut line), the
// earlier proposal comes first, as in the scheduler.

export function byRank(a, b) {
  return (
    (b.dots || 0) - (a.dots || 0) ||
    (b.voters || 0) - (a.voters || 0) ||
    Date.parse(a.created_at) - Date.parse(b.created_at) ||
    a.id - b.id
  );
}

// Sorted proposals -> their rank numbers, in the same order.
export function rankNumbers(sorted) {
  const ranks = [];
  sorted.forEach((p, i) => {
    const prev = sorted[i - 1];
    const tied = prev && (prev.dots || 0) === (p.dots || 0) && (prev.voters || 0) === (p.voters || 0);
    ranks.push(tied ? ranks[i - 1] : i + 1);
  });
  return ranks;
}

// Whether rank r is shared by more than one proposal.
export function isTied(ranks, index) {
  return ranks[index - 1] === ranks[index] || ranks[index + 1] === ranks[index];
}

// The phase (contract: Events); `now` is the server's clock in ms, never the device's.
// Open and its deadline (if any) not passed.
export function votingOpen(event, now) {
  return Boolean(event.voting_open) && (!event.voting_closes_at || now < Date.parse(event.voting_closes_at));
}

// Not open now, and it happened: deadline passed, dots cast or results revealed.
export function votingOver(event, now, dotsCast = 0) {
  if (votingOpen(event, now)) return false;
  const deadlinePassed = Boolean(event.voting_closes_at) && now >= Date.parse(event.voting_closes_at);
  return deadlinePassed || dotsCast > 0 || Boolean(event.results_revealed);
}

// Counts shown to attendees and on the stage.
export function countsVisible(event) {
  return event.tally_visibility === "live" || Boolean(event.results_revealed);
}

// A countdown: "4:05", "1:02:09".
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
