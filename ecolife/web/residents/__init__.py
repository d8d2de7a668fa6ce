"""The residents' pages: claim points from a sticker, then home, history, rewards and vouchers,
badges, leaderboards, their village, their profile. Each page calls the services the API's
views call; the rules live there, never here."""
