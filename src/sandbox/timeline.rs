//! The sandbox's record of accepted posts: in memory for duplicates, replies and deletes, and
//! appended to the timeline file, one JSON object per line, as each post is accepted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: u64,
    pub author: String,
    pub author_id: String,
    pub text: String,
    pub reply_to: Option<u64>,
    pub time: SystemTime,
}

#[derive(Default)]
pub struct Timeline {
    posts: Vec<Post>,
    /// Index into `posts` by id, for replies and deletes.
    by_id: HashMap<u64, usize>,
    /// (author, text) of live posts, for X's duplicate rule.
    texts: HashMap<(String, String), u64>,
    deleted: Vec<bool>,
    file: Option<File>,
}

impl Timeline {
    /// A timeline that also appends to `path` (created if missing).
    pub fn with_file(path: &Path) -> io::Result<Timeline> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Timeline {
            file: Some(file),
            ..Timeline::default()
        })
    }

    /// How many posts were accepted (deleted ones included).
    pub fn accepted(&self) -> usize {
        self.posts.len()
    }

    pub fn exists(&self, id: u64) -> bool {
        self.by_id
            .get(&id)
            .is_some_and(|&index| !self.deleted[index])
    }

    pub fn author_of(&self, id: u64) -> Option<&str> {
        let &index = self.by_id.get(&id)?;
        (!self.deleted[index]).then(|| self.posts[index].author.as_str())
    }

    /// Whether `author` already has a live post with exactly this text.
    pub fn is_duplicate(&self, author: &str, text: &str) -> bool {
        self.texts
            .contains_key(&(author.to_string(), text.to_string()))
    }

    /// Records a post and appends it to the file. A failed write is returned but the post stays
    /// accepted: the caller reports it.
    pub fn add(&mut self, post: Post) -> io::Result<()> {
        let line = serde_json::json!({
            "id": post.id.to_string(),
            "author": post.author,
            "author_id": post.author_id,
            "text": post.text,
            "in_reply_to_tweet_id": post.reply_to.map(|id| id.to_string()),
            "time": rfc3339(post.time),
        });
        self.texts
            .insert((post.author.clone(), post.text.clone()), post.id);
        self.by_id.insert(post.id, self.posts.len());
        self.posts.push(post);
        self.deleted.push(false);
        self.append(&line)
    }

    /// Deletes a live post; false when there is none with that id.
    pub fn delete(&mut self, id: u64) -> io::Result<bool> {
        let Some(&index) = self.by_id.get(&id) else {
            return Ok(false);
        };
        if self.deleted[index] {
            return Ok(false);
        }
        self.deleted[index] = true;
        let post = &self.posts[index];
        self.texts.remove(&(post.author.clone(), post.text.clone()));
        let line = serde_json::json!({
            "id": id.to_string(),
            "deleted": true,
            "time": rfc3339(SystemTime::now()),
        });
        self.append(&line).map(|()| true)
    }

    /// Live posts, oldest first.
    pub fn posts(&self) -> Vec<Post> {
        self.posts
            .iter()
            .zip(&self.deleted)
            .filter(|(_, deleted)| !**deleted)
            .map(|(post, _)| post.clone())
            .collect()
    }

    fn append(&mut self, line: &serde_json::Value) -> io::Result<()> {
        match &mut self.file {
            Some(file) => writeln!(file, "{line}"),
            None => Ok(()),
        }
    }
}

fn rfc3339(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|timestamp| timestamp.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(id: u64, author: &str, text: &str) -> Post {
        Post {
            id,
            author: author.into(),
            author_id: "1".into(),
            text: text.into(),
            reply_to: None,
            time: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn duplicates_are_per_author_and_end_with_a_delete() {
        let mut timeline = Timeline::default();
        timeline.add(post(1, "ann", "hello")).unwrap();
        assert!(timeline.is_duplicate("ann", "hello"));
        assert!(!timeline.is_duplicate("ben", "hello"));
        assert!(timeline.delete(1).unwrap());
        assert!(!timeline.delete(1).unwrap());
        assert!(!timeline.is_duplicate("ann", "hello"));
        assert!(!timeline.exists(1));
        assert!(timeline.posts().is_empty());
    }

    #[test]
    fn every_post_is_appended_to_the_file_as_one_json_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timeline.jsonl");
        let mut timeline = Timeline::with_file(&path).unwrap();
        timeline.add(post(7, "ann", "one")).unwrap();
        let mut reply = post(8, "ann", "two");
        reply.reply_to = Some(7);
        timeline.add(reply).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["id"], "7");
        assert_eq!(lines[0]["author"], "ann");
        assert_eq!(lines[1]["in_reply_to_tweet_id"], "7");
        assert_eq!(lines[1]["time"], "1970-01-01T00:00:00Z");
    }
}
